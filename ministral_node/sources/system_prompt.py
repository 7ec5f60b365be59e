"""The prompt every model source sends: the system prompt (role, decision format, units,
safety reminder) and the user text around the operator's command.

The onboard model and the remote server see the same words, so one contract serves both.
"""

from __future__ import annotations

from pathlib import Path

from ministral_node.decoding.constrained import generation_schema
from ministral_node.sources.base import DecisionRequest

# A model directory may carry the system prompt it was trained with; the decider sends that one.
SYSTEM_PROMPT_FILE = 'system_prompt.txt'

UNITS = ('Units are in the field names: _m metres, _mps metres per second, _deg degrees '
         '(headings clockwise from north, yaw positive to the right), _s seconds.')
SAFETY = ('Altitude, speed, distance and geofence limits are enforced after you by the '
          'vehicle\'s safety envelope: propose what the operator asked, never work around '
          'a limit, and prefer hold, clarify or reject when unsure or unsafe.')


def _action_lines(schema: dict) -> list[str]:
    lines = []
    for branch in schema['anyOf']:
        props = branch['properties']
        params = ', '.join(props['params'].get('properties', {})) or 'none'
        target = props['target']
        needs = 'target required' if 'anyOf' not in target and target.get('type') != 'null' \
            else 'target optional' if 'anyOf' in target else 'target null'
        lines.append(f'- {props["action"]["const"]}: params {params}; {needs}')
    return lines


def system_prompt() -> str:
    """Role, decision format, units and the safety reminder (constant: the cached prefix)."""
    return '\n'.join([
        'You are the onboard decision maker of an autonomous drone. Read the operator\'s '
        'command (any language) and, when given, the current camera image, and reply with '
        'one JSON object: {"action", "params", "target", "confidence", "rationale"}.',
        'Actions and their params:', *_action_lines(generation_schema()),
        'target is null or {"label": the thing in the operator\'s words, "box": [x_min, '
        'y_min, x_max, y_max] normalised 0..1 in the image, or null}. confidence is 0..1. '
        'rationale is one short sentence in the operator\'s language.',
        UNITS, SAFETY,
        'Use clarify when the command is ambiguous, reject when it is unsafe or impossible, '
        'answer for questions.',
    ])


def user_text(request: DecisionRequest) -> str:
    """The operator command, saying whether a camera image comes with it."""
    note = '' if request.frame is not None else '\n(No fresh camera image is available.)'
    return f'Command: {request.command.text}{note}'


def model_system_prompt(model_dir: str | Path) -> str:
    """The system prompt to send to the model in `model_dir`: its own `system_prompt.txt` if it
    has one (a model trained with a different prompt), else `system_prompt()`."""
    path = Path(model_dir) / SYSTEM_PROMPT_FILE
    if path.is_file():
        return path.read_text(encoding='utf-8').strip()
    return system_prompt()
