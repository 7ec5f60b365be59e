"""The typed messages of `ministral_interfaces`, filled from the ROS-free field dicts of
`ministral_node.ros.interfaces_mapping` (and read back into them, for decisions).

The package is optional: `load()` says whether it imports, and why not, so a node without it
still starts with its JSON topics only.
"""

from __future__ import annotations

import importlib
import re
from types import ModuleType
from typing import Any

from ministral_node.decision import Decision
from ministral_node.ros import interfaces_mapping as mapping

PACKAGE = 'ministral_interfaces'
_ELEMENT = re.compile(r'^sequence<([\w/]+)(?:, \d+)?>$|^([\w/]+)\[\d+\]$')


def load() -> tuple[ModuleType | None, ModuleType | None, str]:
    """(`ministral_interfaces.msg`, `.action`, '') or (None, None, why it does not import)."""
    try:
        return (importlib.import_module(f'{PACKAGE}.msg'),
                importlib.import_module(f'{PACKAGE}.action'), '')
    except ImportError as exc:
        return None, None, (f'{PACKAGE} is not installed ({exc}): typed topics and the '
                            'command action are off (make setup builds it; in a workspace: '
                            'colcon build, see README)')


def _message_class(type_name: str) -> type | None:
    """The class of a message type named `pkg/Type` (None for a primitive)."""
    if '/' not in type_name:
        return None
    package, name = type_name.split('/')
    return getattr(importlib.import_module(f'{package}.msg'), name)


def fill(message: Any, fields: dict[str, Any]) -> Any:
    """Set `fields` (nested dicts and lists of dicts for sub-messages) on `message`; returns it."""
    types = message.get_fields_and_field_types()
    for name, value in fields.items():
        if isinstance(value, dict):
            fill(getattr(message, name), value)
            continue
        if isinstance(value, list) and value and isinstance(value[0], dict):
            match = _ELEMENT.match(types[name])
            element = _message_class(match.group(1) or match.group(2))
            value = [fill(element(), item) for item in value]
        setattr(message, name, value)
    return message


def fields_of(message: Any) -> dict[str, Any]:
    """A message as nested plain dicts and lists (the inverse of `fill`)."""
    result: dict[str, Any] = {}
    for name in message.get_fields_and_field_types():
        result[name] = _plain(getattr(message, name))
    return result


def _plain(value: Any) -> Any:
    if hasattr(value, 'get_fields_and_field_types'):
        return fields_of(value)
    if isinstance(value, (str, bytes)):
        return value
    if hasattr(value, '__iter__'):  # list, array.array, numpy array
        return [_plain(v) for v in value]
    if hasattr(value, 'item'):  # numpy scalar
        return value.item()
    return value


def decision_message(msg: ModuleType, decision: Decision) -> Any:
    """A decision as `ministral_interfaces/Decision`."""
    return fill(msg.Decision(), mapping.decision_fields(decision.to_dict()))


def decision_of(message: Any) -> dict:
    """The JSON decision a `ministral_interfaces/Decision` carries."""
    return mapping.decision_from_fields(fields_of(message))


def mission_status_message(msg: ModuleType, status: dict) -> Any:
    """The executor's JSON status as `ministral_interfaces/MissionStatus`."""
    return fill(msg.MissionStatus(), mapping.mission_status_fields(status))


def node_status_message(msg: ModuleType, status: dict) -> Any:
    """The node's JSON heartbeat as `ministral_interfaces/NodeStatus`."""
    return fill(msg.NodeStatus(), mapping.node_status_fields(status))
