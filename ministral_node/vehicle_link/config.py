"""The vehicle link's parameters (`# Vehicle link` in parameters.py) as one checked value,
and the message package each interface needs at run time."""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ministral_node.parameters import ParameterError
from ministral_node.vehicle_link.mavros import ARDUPILOT, MavrosTopics
from ministral_node.vehicle_link.offboard import LinkSettings
from ministral_node.vehicle_link.px4 import Px4Topics

JSON, PX4, MAVROS = 'json', 'px4', 'mavros'
# The interface package each interface imports, and where a user gets it.
MESSAGE_PACKAGES = {
    PX4: ('px4_msgs', 'build PX4/px4_msgs (branch release/1.16, or the one matching your PX4) '
                      'in your ROS 2 workspace and source it'),
    MAVROS: ('mavros_msgs', 'install ros-$ROS_DISTRO-mavros-msgs or build mavlink/mavros '
                            '(2.x) in your workspace and source it'),
}


@dataclass(frozen=True)
class VehicleLinkConfig:
    """Which interface, and how the link behaves on it."""

    interface: str = JSON
    autopilot: str = 'px4'
    settings: LinkSettings = field(default_factory=LinkSettings)
    px4_topics: Px4Topics = field(default_factory=Px4Topics)
    mavros_topics: MavrosTopics = field(default_factory=MavrosTopics)

    @classmethod
    def from_params(cls, values: Mapping[str, Any]) -> VehicleLinkConfig:
        """From validated parameter values; a namespace that is not a topic prefix is a
        ParameterError naming the parameter."""
        autopilot = str(values.get('autopilot', 'px4'))
        try:
            settings = LinkSettings(
                priming_s=float(values.get('offboard_priming_s', 1.2)),
                ack_timeout_s=float(values.get('autopilot_ack_timeout_s', 1.0)),
                max_attempts=int(values.get('autopilot_max_attempts', 3)),
                status_timeout_s=float(values.get('autopilot_status_timeout_s', 1.0)),
                takeoff_command=values.get('vehicle_interface') == MAVROS
                and autopilot == ARDUPILOT)
        except ValueError as error:
            raise ParameterError(f'vehicle link: {error}') from error
        try:
            px4_topics = Px4Topics(str(values.get('px4_namespace', '/fmu')),
                                   '' if values.get('px4_version') == '1.15' else '_v1')
        except ValueError as error:
            raise ParameterError(f'px4_namespace: {error}') from error
        mavros_ns = str(values.get('mavros_namespace', '/mavros'))
        if not mavros_ns.startswith('/') or mavros_ns.endswith('/'):
            raise ParameterError(f'mavros_namespace: a topic prefix looks like /mavros, '
                                 f'not {mavros_ns!r}')
        return cls(str(values.get('vehicle_interface', JSON)), autopilot, settings,
                   px4_topics, MavrosTopics(mavros_ns))


def missing_message_package(interface: str) -> str | None:
    """None when the interface's message package imports, else one sentence saying what to
    build (json needs none). Looks the package up without importing it."""
    if interface not in MESSAGE_PACKAGES:
        return None
    package, how = MESSAGE_PACKAGES[interface]
    if importlib.util.find_spec(package) is not None:
        return None
    return f'vehicle_interface {interface} needs the {package} package, which is not ' \
           f'installed: {how}'
