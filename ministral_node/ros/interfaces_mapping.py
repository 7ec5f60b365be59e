"""The JSON decision contract <-> the typed messages of `ministral_interfaces`, ROS-free.

Each function maps a published dict (decision, mission status, node status) to the fields of
the matching message as plain nested dicts (sub-messages are dicts, stamps
`{'sec', 'nanosec'}`), and back for decisions; `ministral_node.ros.typed` fills real messages
from them. The per-action parameters are read from the JSON Schema itself (`$defs/params` and
the proposal's variants), so the schema stays the one source of truth: a parameter field is
NaN, 0 or empty when the action does not use it, NaN also standing for the contract's null.

A decision carries every field of the contract in `Decision.msg` except `confidence_detail`
and the grounding beyond its status and the target's detection score (the JSON has them);
`decision_from_fields(decision_fields(d))` equals `d` without those two keys.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from typing import Any

from ministral_node.decision import MISSION, load_schema

NAN = float('nan')
# JSON Schema type -> the unused value of its message field
_UNUSED = {'number': NAN, 'integer': 0, 'string': ''}
TERMINAL_MISSION_STATES = ('completed', 'aborted', 'preempted')
NOT_CARRIED = ('confidence_detail', 'grounding', 'refusal')  # in the JSON only


def _kind(prop: dict) -> str:
    """The JSON type of a parameter property ('number', 'integer' or 'string')."""
    if 'enum' in prop:
        return 'string'
    kinds = prop['type'] if isinstance(prop['type'], list) else [prop['type']]
    return next(k for k in kinds if k != 'null')


def _nullable(prop: dict) -> bool:
    return isinstance(prop.get('type'), list) and 'null' in prop['type']


@lru_cache(maxsize=1)
def param_variants() -> dict[str, tuple[dict, ...]]:
    """Action -> its params schemas in the contract's order (goto: offset, heading, target)."""
    schema = load_schema()
    variants: dict[str, list[dict]] = {}
    for variant in schema['$defs']['proposal']['anyOf']:
        name = variant['properties']['params']['$ref'].rsplit('/', 1)[-1]
        action = variant['properties']['action']['const']
        variants.setdefault(action, []).append(schema['$defs']['params'][name])
    return {action: tuple(found) for action, found in variants.items()}


@lru_cache(maxsize=1)
def param_fields() -> dict[str, str]:
    """Every parameter of every action (but a mission's steps) -> its JSON type: the fields
    of `Params.msg`, in the order the contract names them."""
    fields: dict[str, str] = {}
    for variants in param_variants().values():
        for variant in variants:
            for name, prop in variant['properties'].items():
                if name != 'steps':
                    fields.setdefault(name, _kind(prop))
    return fields


def _is_set(value: Any) -> bool:
    """Whether a `Params.msg` field holds a value (0.0 does; NaN, 0 and '' do not)."""
    if isinstance(value, float):
        return not math.isnan(value)
    return value not in ('', 0)


def params_fields(params: dict) -> dict[str, Any]:
    """An action's JSON params as the fields of `Params.msg` (unused: NaN, 0 or empty)."""
    fields = {name: _UNUSED[kind] for name, kind in param_fields().items()}
    for name, value in params.items():
        if name == 'steps':
            continue
        kind = param_fields()[name]
        fields[name] = _UNUSED[kind] if value is None else \
            {'number': float, 'integer': int, 'string': str}[kind](value)
    return fields


def params_from_fields(action: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The JSON params of `action` from `Params.msg` fields: the first of the action's variants
    whose required fields are set and which leaves no set field unexplained."""
    used = {name for name, value in fields.items() if _is_set(value)}
    for variant in param_variants()[action]:
        props = {k: p for k, p in variant['properties'].items() if k != 'steps'}
        needed = {k for k, p in props.items() if not _nullable(p)}
        if needed <= used and used <= set(props):
            return {name: (None if not _is_set(fields[name]) else fields[name])
                    if _nullable(prop) else fields[name] for name, prop in props.items()}
    raise ValueError(f'no {action} parameters fit the set fields {sorted(used)}')


def time_fields(seconds: float) -> dict[str, int]:
    """Seconds as `builtin_interfaces/Time` fields (nanosecond resolution)."""
    sec = math.floor(seconds)
    nanosec = round((seconds - sec) * 1e9)
    if nanosec >= 1_000_000_000:
        sec, nanosec = sec + 1, nanosec - 1_000_000_000
    return {'sec': int(sec), 'nanosec': int(nanosec)}


def seconds_of(stamp: dict[str, int]) -> float:
    """`builtin_interfaces/Time` fields as seconds."""
    return stamp['sec'] + stamp['nanosec'] * 1e-9


def _roi(box: list[float] | None, frame: dict | None) -> dict[str, Any]:
    """A normalised box in the frame's pixels (`sensor_msgs/RegionOfInterest`), or zeros."""
    if box is None or frame is None:
        return {'x_offset': 0, 'y_offset': 0, 'width': 0, 'height': 0, 'do_rectify': False}
    width, height = frame['width'], frame['height']
    x0, y0 = round(box[0] * width), round(box[1] * height)
    return {'x_offset': x0, 'y_offset': y0, 'width': max(0, round(box[2] * width) - x0),
            'height': max(0, round(box[3] * height) - y0), 'do_rectify': False}


def target_fields(target: dict | None, frame: dict | None = None,
                  score: float = NAN) -> tuple[bool, dict[str, Any]]:
    """(has_target, `Target.msg` fields) of a JSON target (null: False and empty fields)."""
    box = None if target is None else target['box']
    return target is not None, {
        'label': '' if target is None else target['label'], 'has_box': box is not None,
        'box': [float(v) for v in box] if box is not None else [0.0] * 4,
        'roi': _roi(box, frame), 'score': float(score)}


def target_from_fields(has_target: bool, fields: dict[str, Any]) -> dict | None:
    """The JSON target of `Target.msg` fields."""
    if not has_target:
        return None
    return {'label': fields['label'],
            'box': [float(v) for v in fields['box']] if fields['has_box'] else None}


def step_fields(step: dict, frame: dict | None = None) -> dict[str, Any]:
    """A mission step (`{action, params, target}`) as `MissionStep.msg` fields."""
    has_target, target = target_fields(step['target'], frame)
    return {'action': step['action'], 'params': params_fields(step['params']),
            'has_target': has_target, 'target': target}


def step_from_fields(fields: dict[str, Any]) -> dict:
    """A JSON mission step from `MissionStep.msg` fields."""
    return {'action': fields['action'],
            'params': params_from_fields(fields['action'], fields['params']),
            'target': target_from_fields(fields['has_target'], fields['target'])}


def _grounded_score(decision: dict) -> float:
    grounding = decision.get('grounding') or {}
    detection = grounding.get('detection') if grounding.get('status') == 'grounded' else None
    return float(detection['score']) if detection else NAN


def decision_fields(decision: dict) -> dict[str, Any]:
    """A (valid) JSON decision as `Decision.msg` fields."""
    command, frame, model = decision['command'], decision['frame'], decision['model']
    has_target, target = target_fields(decision['target'], frame, _grounded_score(decision))
    safety = decision['safety']
    steps = decision['params'].get('steps', []) if decision['action'] == MISSION else []
    return {
        'schema_version': decision['schema_version'], 'id': decision['id'],
        'stamp': time_fields(decision['stamp']),
        'has_command': command is not None,
        'command_id': '' if command is None else command['id'],
        'command_text': '' if command is None else command['text'],
        'command_stamp': time_fields(0.0 if command is None else command['stamp']),
        'action': decision['action'], 'params': params_fields(decision['params']),
        'steps': [step_fields(step, frame) for step in steps],
        'has_target': has_target, 'target': target,
        'confidence': float(decision['confidence']), 'rationale': decision['rationale'],
        'source': decision['source'],
        'has_frame': frame is not None,
        'frame_stamp': time_fields(0.0 if frame is None else frame['stamp']),
        'frame_id': '' if frame is None else frame['frame_id'],
        'frame_age_s': 0.0 if frame is None else float(frame['age_s']),
        'frame_width': 0 if frame is None else frame['width'],
        'frame_height': 0 if frame is None else frame['height'],
        'latency_ms': float(decision['latency_ms']),
        'has_model': model is not None,
        **{f'model_{k}': '' if model is None else model[k]
           for k in ('name', 'variant', 'provider')},
        'safety_status': safety['status'],
        'safety_changes': [{'field': c['field'], 'requested_json': json.dumps(c['requested']),
                            'applied_json': json.dumps(c['applied']), 'reason': c['reason']}
                           for c in safety['changes']],
        'safety_refused': safety['refused'] or '',
        'attempts': [{**a, 'latency_ms': float(a['latency_ms'])} for a in decision['attempts']],
        'notes': list(decision['notes']),
        'grounding_status': (decision.get('grounding') or {}).get('status', ''),
    }


def decision_from_fields(fields: dict[str, Any]) -> dict:
    """The JSON decision of `Decision.msg` fields (without `NOT_CARRIED`)."""
    action = fields['action']
    params = {'steps': [step_from_fields(s) for s in fields['steps']]} if action == MISSION \
        else params_from_fields(action, fields['params'])
    refused = fields['safety_status'] == 'refused'
    return {
        'schema_version': fields['schema_version'], 'id': fields['id'],
        'stamp': seconds_of(fields['stamp']),
        'command': {'id': fields['command_id'], 'text': fields['command_text'],
                    'stamp': seconds_of(fields['command_stamp'])}
        if fields['has_command'] else None,
        'action': action, 'params': params,
        'target': target_from_fields(fields['has_target'], fields['target']),
        'confidence': fields['confidence'], 'rationale': fields['rationale'],
        'source': fields['source'],
        'frame': {'stamp': seconds_of(fields['frame_stamp']), 'frame_id': fields['frame_id'],
                  'age_s': fields['frame_age_s'], 'width': fields['frame_width'],
                  'height': fields['frame_height']} if fields['has_frame'] else None,
        'latency_ms': fields['latency_ms'],
        'model': {k: fields[f'model_{k}'] for k in ('name', 'variant', 'provider')}
        if fields['has_model'] else None,
        'safety': {'status': fields['safety_status'],
                   'changes': [{'field': c['field'],
                                'requested': json.loads(c['requested_json']),
                                'applied': json.loads(c['applied_json']),
                                'reason': c['reason']} for c in fields['safety_changes']],
                   'refused': fields['safety_refused'] if refused else None},
        'attempts': [dict(a) for a in fields['attempts']],
        'notes': list(fields['notes']),
    }


def mission_status_fields(status: dict) -> dict[str, Any]:
    """The executor's status (the JSON on ~/mission) as `MissionStatus.msg` fields."""
    text = {k: status.get(k) or '' for k in ('mission_id', 'decision_id', 'source', 'state',
                                              'step_action', 'reason', 'note')}
    return {**text, 'step_index': int(status['step_index']),
            'step_count': int(status['step_count']), 'progress': float(status['progress']),
            'step_progress': float(status['step_progress']),
            'stamp': time_fields(status['stamp'])}


def _number(value: float | None) -> float:
    return NAN if value is None else float(value)


def node_status_fields(status: dict) -> dict[str, Any]:
    """The node's heartbeat (the JSON on ~/status) as `NodeStatus.msg` fields (an unconfigured
    node's heartbeat has only its name and state: the rest stays zero or empty)."""
    fields: dict[str, Any] = {'node': status.get('node', ''), 'state': status['state']}
    if 'stamp' not in status:
        return fields
    last = status['last_decision'] or {}
    camera, link = status['camera'], status['link']
    return {
        **fields, 'stamp': time_fields(status['stamp']), 'busy': bool(status['busy']),
        **{k: int(status[k]) for k in ('queued_commands', 'commands_received',
                                       'commands_refused', 'reflexes', 'decisions_published')},
        'sources': list(status['sources']),
        'last_decision_id': last.get('id', ''), 'last_action': last.get('action', ''),
        'last_source': last.get('source', ''),
        'camera_frames_received': int(camera['frames_received']),
        'camera_rate_hz': float(camera['rate_hz']),
        'camera_newest_frame_age_s': _number(camera['newest_frame_age_s']),
        'link_state': link['state'], 'link_silent_s': _number(link['silent_s']),
        'failsafe_active': bool(link['failsafe_active']),
        'clock_source': status['clock']['source'],
        'health': [{'key': k, 'value': v} for k, v in status['health'].items()],
    }
