"""Boxes you can see: a decision's target box as `visualization_msgs/ImageMarker` fields.

The node publishes them on `~/annotations` (and the recorder records them), so Foxglove's
Image panel and RViz draw the box the decision is about over the camera image. Coordinates
are pixels of the frame the decision saw; the box in a decision is normalised
[x_min, y_min, x_max, y_max].
"""

from __future__ import annotations

from typing import Any

from ministral_node.decision import Decision

# visualization_msgs/ImageMarker constants
LINE_STRIP, POLYGON = 1, 3
ADD, REMOVE = 0, 1

NAMESPACE = 'ministral_node'
COLORS = {  # outline colour (RGBA) by safety outcome: passed, modified, refused
    'passed': (0.1, 0.9, 0.2, 1.0),
    'modified': (1.0, 0.75, 0.0, 1.0),
    'refused': (1.0, 0.15, 0.1, 1.0),
    'detection': (0.0, 0.8, 1.0, 1.0),  # the detector's boxes (`~/detection_markers`)
}
DETECTIONS_NAMESPACE = 'ministral_node/detections'


def time_fields(seconds: float) -> dict[str, int]:
    """`builtin_interfaces/Time` fields of a time in seconds."""
    nanoseconds = round(seconds * 1e9)
    return {'sec': nanoseconds // 1_000_000_000, 'nanosec': nanoseconds % 1_000_000_000}


def box_marker(box: tuple[float, float, float, float] | list[float], width: int, height: int,
               *, stamp_s: float, frame_id: str = '', marker_id: int = 0,
               outcome: str = 'passed', line_width_px: float = 3.0,
               lifetime_s: float = 0.0, ns: str = NAMESPACE) -> dict[str, Any]:
    """ImageMarker fields drawing a normalised box as a closed polygon in a width x height
    image; coordinates are clamped to the image. `lifetime_s` 0 keeps it until replaced."""
    if width <= 0 or height <= 0:
        raise ValueError(f'frame size {width}x{height} is not an image')
    if len(box) != 4:
        raise ValueError(f'a box has 4 values [x_min, y_min, x_max, y_max], got {box!r}')
    x0, y0, x1, y1 = (min(1.0, max(0.0, float(v))) for v in box)
    x0, x1 = sorted((x0 * width, x1 * width))
    y0, y1 = sorted((y0 * height, y1 * height))
    r, g, b, a = COLORS.get(outcome, COLORS['passed'])
    return {
        'header': {'stamp': time_fields(stamp_s), 'frame_id': frame_id},
        'ns': ns, 'id': marker_id, 'type': POLYGON, 'action': ADD,
        'position': {'x': 0.0, 'y': 0.0, 'z': 0.0},
        'scale': float(line_width_px),
        'outline_color': {'r': r, 'g': g, 'b': b, 'a': a},
        'filled': 0,
        'fill_color': {'r': 0.0, 'g': 0.0, 'b': 0.0, 'a': 0.0},
        'lifetime': time_fields(lifetime_s),
        'points': [{'x': x, 'y': y, 'z': 0.0} for x, y in ((x0, y0), (x1, y0), (x1, y1),
                                                            (x0, y1))],
        'outline_colors': [],
    }


def decision_marker(decision: Decision, marker_id: int = 0) -> dict[str, Any] | None:
    """ImageMarker fields for a decision's target box, stamped with the frame it saw; None
    when the decision has no box or saw no frame."""
    target, frame = decision.target, decision.frame
    if target is None or not target.box or frame is None:
        return None
    return box_marker(target.box, frame.width, frame.height, stamp_s=float(frame.stamp),
                      frame_id=frame.frame_id, marker_id=marker_id,
                      outcome=decision.safety.status)


def detection_markers(detections: dict, lifetime_s: float = 1.0) -> list[dict[str, Any]]:
    """ImageMarker fields for every box of a `~/detections` message (`scene_dict`), in the
    namespace `ministral_node/detections`, ids 0.. in the message's order, each kept
    `lifetime_s` so the boxes of a scene that is no longer seen go away."""
    frame = detections['frame']
    return [box_marker(d['box'], int(frame['width']), int(frame['height']),
                       stamp_s=float(frame['stamp']), frame_id=frame.get('frame_id', ''),
                       marker_id=i, outcome='detection', line_width_px=2.0,
                       lifetime_s=lifetime_s, ns=DETECTIONS_NAMESPACE)
            for i, d in enumerate(detections['detections'])]


def remove_marker(stamp_s: float, frame_id: str = '', marker_id: int = 0) -> dict[str, Any]:
    """ImageMarker fields removing the box `marker_id` (a decision without a box clears the
    previous decision's box)."""
    return {'header': {'stamp': time_fields(stamp_s), 'frame_id': frame_id},
            'ns': NAMESPACE, 'id': marker_id, 'type': POLYGON, 'action': REMOVE}


def fill_message(message: Any, fields: dict[str, Any], factories: dict[str, Any]) -> Any:
    """Set `fields` on a message object in place: nested mappings recurse into the field's
    object; lists of mappings are built with `factories[field name]` (e.g. {'points': Point,
    'outline_colors': ColorRGBA} for ImageMarker). Returns `message`."""
    for name, value in fields.items():
        if isinstance(value, dict):
            fill_message(getattr(message, name), value, factories)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            setattr(message, name, [fill_message(factories[name](), item, factories)
                                    for item in value])
        else:
            setattr(message, name, value)
    return message
