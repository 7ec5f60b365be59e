"""PX4's native ROS 2 interface (uXRCE-DDS, px4_msgs) as plain dicts, both ways.

Mirrors px4_msgs of PX4 v1.16 (v1.16.2 checked; the fields used here are the same in v1.15.4;
v1.16 renames the status topic `vehicle_status_v1` because VehicleStatus has MESSAGE_VERSION 1).
The dicts carry exactly the message's field names, so the ROS adapter fills a message with
`setattr` per key. Positions are NED from the estimator's local origin; timestamps are
microseconds; NaN marks a setpoint field PX4 must not control.

Outgoing: `offboard_control_mode`, `trajectory_setpoint` (both every setpoint period while the
link streams) and `vehicle_command`. Incoming: `status_from_px4` (vehicle_status +
vehicle_land_detected), `Px4Acks.read` (vehicle_command_ack) and `pose_from_px4`
(vehicle_local_position).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ministral_node.mission.executor import Setpoint
from ministral_node.vehicle_link.frames import (
    LocalOrigin,
    enu_yaw_to_ned,
    ned_yaw_to_heading,
    to_microseconds,
)
from ministral_node.vehicle_link.offboard import LinkOutput
from ministral_node.vehicle_link.vocabulary import (
    ARM,
    CAPTURE_PHOTO,
    DISARM,
    HOLD,
    LAND,
    MANUAL,
    MISSION,
    OFFBOARD,
    OTHER,
    RTL,
    SET_MODE,
    SET_SPEED,
    TAKEOFF,
    TAKEOFF_COMMAND,
    AutopilotStatus,
    CommandAck,
    LinkCommand,
)

RELEASE = 'PX4 v1.16 (px4_msgs release/1.16, checked against v1.16.2 and v1.15.4)'


def _fields(spec: str) -> dict[str, str]:
    pairs = (item.split() for item in spec.split(';'))
    return {name: kind for kind, name in pairs}


# Every field of the messages the link publishes, and the fields it reads of the others
# (name -> .msg type), as in px4_msgs v1.16.2 msg/*.msg.
FIELDS: dict[str, dict[str, str]] = {
    'OffboardControlMode': _fields(
        'uint64 timestamp;bool position;bool velocity;bool acceleration;bool attitude;'
        'bool body_rate;bool thrust_and_torque;bool direct_actuator'),
    'TrajectorySetpoint': _fields(
        'uint64 timestamp;float32[3] position;float32[3] velocity;float32[3] acceleration;'
        'float32[3] jerk;float32 yaw;float32 yawspeed'),
    'VehicleCommand': _fields(
        'uint64 timestamp;float32 param1;float32 param2;float32 param3;float32 param4;'
        'float64 param5;float64 param6;float32 param7;uint32 command;uint8 target_system;'
        'uint8 target_component;uint8 source_system;uint16 source_component;'
        'uint8 confirmation;bool from_external'),
}
READ_FIELDS: dict[str, dict[str, str]] = {
    'VehicleCommandAck': _fields('uint64 timestamp;uint32 command;uint8 result;'
                                 'uint8 result_param1;int32 result_param2'),
    'VehicleStatus': _fields('uint64 timestamp;uint8 arming_state;uint8 nav_state;'
                             'bool failsafe;bool gcs_connection_lost;'
                             'bool pre_flight_checks_pass'),
    'VehicleLandDetected': _fields('uint64 timestamp;bool landed;bool maybe_landed'),
    'VehicleLocalPosition': _fields('uint64 timestamp;bool xy_valid;bool z_valid;float32 x;'
                                    'float32 y;float32 z;float32 vx;float32 vy;float32 vz;'
                                    'float32 heading'),
}

# VehicleCommand numbers (MAVLink MAV_CMD, px4_msgs VehicleCommand.msg).
VEHICLE_CMD_NAV_RETURN_TO_LAUNCH = 20
VEHICLE_CMD_NAV_LAND = 21
VEHICLE_CMD_NAV_TAKEOFF = 22
VEHICLE_CMD_DO_SET_MODE = 176
VEHICLE_CMD_DO_CHANGE_SPEED = 178
VEHICLE_CMD_COMPONENT_ARM_DISARM = 400
VEHICLE_CMD_IMAGE_START_CAPTURE = 2000
SPEED_TYPE_GROUNDSPEED = 1
# DO_SET_MODE: param1 1 = MAV_MODE_FLAG_CUSTOM_MODE_ENABLED, param2 main mode, param3 sub mode
# (PX4 px4_custom_mode.h).
CUSTOM_MODE_ENABLED = 1.0
MAIN_MODE_AUTO, MAIN_MODE_OFFBOARD = 4, 6
SUB_MODE_AUTO_LOITER, SUB_MODE_AUTO_RTL, SUB_MODE_AUTO_LAND = 3, 5, 6
# VehicleStatus.arming_state
ARMING_STATE_DISARMED, ARMING_STATE_ARMED = 1, 2
# VehicleStatus.nav_state -> (link mode, the name MAVROS and QGroundControl show).
NAV_STATES: dict[int, tuple[str, str]] = {
    0: (MANUAL, 'MANUAL'), 1: (MANUAL, 'ALTCTL'), 2: (MANUAL, 'POSCTL'),
    3: (MISSION, 'AUTO.MISSION'), 4: (HOLD, 'AUTO.LOITER'), 5: (RTL, 'AUTO.RTL'),
    6: (MANUAL, 'POSITION_SLOW'), 10: (MANUAL, 'ACRO'), 12: (OTHER, 'DESCEND'),
    13: (OTHER, 'TERMINATION'), 14: (OFFBOARD, 'OFFBOARD'), 15: (MANUAL, 'STABILIZED'),
    17: (TAKEOFF, 'AUTO.TAKEOFF'), 18: (LAND, 'AUTO.LAND'), 19: (OTHER, 'AUTO.FOLLOW_TARGET'),
    20: (LAND, 'AUTO.PRECLAND'), 21: (OTHER, 'ORBIT'), 22: (TAKEOFF, 'AUTO.VTOL_TAKEOFF'),
    **{23 + i: (OTHER, f'EXTERNAL{i + 1}') for i in range(8)},
}
NAV_STATE_OFFBOARD = 14
# VehicleCommandAck.result (MAVLink MAV_RESULT).
RESULTS = {0: 'accepted', 1: 'temporarily rejected', 2: 'denied', 3: 'unsupported',
           4: 'failed', 5: 'in progress', 6: 'cancelled'}
RESULT_ACCEPTED, RESULT_TEMPORARILY_REJECTED, RESULT_IN_PROGRESS = 0, 1, 5

# The link's mode requests as (command, param1, param2, param3).
_MODE_COMMANDS: dict[str, tuple[int, float, float, float]] = {
    OFFBOARD: (VEHICLE_CMD_DO_SET_MODE, CUSTOM_MODE_ENABLED, MAIN_MODE_OFFBOARD, 0.0),
    HOLD: (VEHICLE_CMD_DO_SET_MODE, CUSTOM_MODE_ENABLED, MAIN_MODE_AUTO, SUB_MODE_AUTO_LOITER),
    LAND: (VEHICLE_CMD_NAV_LAND, 0.0, 0.0, 0.0),
    RTL: (VEHICLE_CMD_NAV_RETURN_TO_LAUNCH, 0.0, 0.0, 0.0),
}


@dataclass(frozen=True)
class Px4Topics:
    """Topic names under a namespace (`/fmu`, or `/px4_1/fmu` for a second vehicle).

    `status_suffix`: `_v1` from PX4 v1.16 on (versioned VehicleStatus), empty for v1.15.
    """

    namespace: str = '/fmu'
    status_suffix: str = '_v1'

    def __post_init__(self) -> None:
        if not self.namespace.startswith('/') or self.namespace.endswith('/'):
            raise ValueError(f'a topic namespace looks like /fmu, not {self.namespace!r}')
        if self.status_suffix not in ('', '_v1'):
            raise ValueError(f'vehicle_status suffix is "" (v1.15) or "_v1" (v1.16), '
                             f'not {self.status_suffix!r}')

    def names(self) -> dict[str, str]:
        """Role -> topic name."""
        inn, out = f'{self.namespace}/in/', f'{self.namespace}/out/'
        return {
            'offboard_control_mode': inn + 'offboard_control_mode',
            'trajectory_setpoint': inn + 'trajectory_setpoint',
            'vehicle_command': inn + 'vehicle_command',
            'vehicle_status': out + 'vehicle_status' + self.status_suffix,
            'vehicle_local_position': out + 'vehicle_local_position',
            'vehicle_land_detected': out + 'vehicle_land_detected',
            'vehicle_command_ack': out + 'vehicle_command_ack',
            'battery_status': out + 'battery_status',
        }


# Subscribers to PX4's `/fmu/out` topics use the sensor-data profile the PX4 ROS 2 guide asks
# for (rclpy.qos.qos_profile_sensor_data): best effort and volatile match any durability and
# reliability the client's writers use.
OUT_QOS = {'reliability': 'best_effort', 'durability': 'volatile', 'history': 'keep_last',
           'depth': 5}


def offboard_control_mode(stamp_us: int) -> dict[str, Any]:
    """The proof of life for position control (stream it with every setpoint)."""
    return {'timestamp': stamp_us, 'position': True, 'velocity': False,
            'acceleration': False, 'attitude': False, 'body_rate': False,
            'thrust_and_torque': False, 'direct_actuator': False}


def trajectory_setpoint(setpoint: Setpoint, origin: LocalOrigin,
                        stamp_us: int) -> dict[str, Any]:
    """A node setpoint (ENU from home, ENU yaw) as a NED position setpoint; NaN = not used."""
    unused = [math.nan] * 3
    return {'timestamp': stamp_us,
            'position': list(origin.to_autopilot((setpoint.x, setpoint.y, setpoint.z))),
            'velocity': list(unused), 'acceleration': list(unused), 'jerk': list(unused),
            'yaw': enu_yaw_to_ned(setpoint.yaw), 'yawspeed': math.nan}


@dataclass(frozen=True)
class Px4Target:
    """Who the commands are for and from (MAVLink ids)."""

    target_system: int = 1
    target_component: int = 1
    source_system: int = 1
    source_component: int = 1


def vehicle_command(command: LinkCommand, stamp_us: int, target: Px4Target | None = None,
                    home_amsl_m: float | None = None) -> dict[str, Any]:
    """A link command as a VehicleCommand.

    A takeoff needs `home_amsl_m` (NAV_TAKEOFF's altitude is above mean sea level); PX4 in
    offboard climbs by the setpoint instead and the link never asks it for one.
    """
    target = target or Px4Target()
    params = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    if command.kind == SET_MODE:
        if command.mode not in _MODE_COMMANDS:
            raise ValueError(f'PX4 has no mode request for {command.mode!r}')
        number, *first = _MODE_COMMANDS[command.mode]
        params[:3] = first
        if number == VEHICLE_CMD_NAV_LAND:
            params[3:7] = [math.nan] * 4  # yaw, latitude, longitude, altitude: land here
    elif command.kind in (ARM, DISARM):
        number = VEHICLE_CMD_COMPONENT_ARM_DISARM
        params[0] = 1.0 if command.kind == ARM else 0.0
    elif command.kind == TAKEOFF_COMMAND:
        if home_amsl_m is None or command.value is None:
            raise ValueError('a PX4 takeoff command needs the altitude and home AMSL altitude')
        number = VEHICLE_CMD_NAV_TAKEOFF
        params = [math.nan, 0.0, 0.0, math.nan, math.nan, math.nan,
                  home_amsl_m + command.value]
    elif command.kind == SET_SPEED:
        number = VEHICLE_CMD_DO_CHANGE_SPEED
        params[:3] = [SPEED_TYPE_GROUNDSPEED, float(command.value), -1.0]
    elif command.kind == CAPTURE_PHOTO:
        # IMAGE_START_CAPTURE: param2 interval 0, param3 one image, param4 its sequence number
        number = VEHICLE_CMD_IMAGE_START_CAPTURE
        params[2:4] = [1.0, float(command.value or 0.0)]
    else:  # pragma: no cover - LinkCommand refuses other kinds
        raise ValueError(command.kind)
    return {'timestamp': stamp_us,
            **{f'param{i + 1}': float(v) for i, v in enumerate(params)},
            'command': number, 'target_system': target.target_system,
            'target_component': target.target_component,
            'source_system': target.source_system,
            'source_component': target.source_component,
            'confirmation': 0, 'from_external': True}


def mode_of_nav_state(nav_state: int) -> tuple[str, str]:
    """(link mode, display name) of a VehicleStatus.nav_state."""
    return NAV_STATES.get(int(nav_state), (OTHER, f'nav_state {int(nav_state)}'))


def status_from_px4(vehicle_status: Mapping[str, Any],
                    land_detected: Mapping[str, Any] | None = None) -> AutopilotStatus:
    """An AutopilotStatus from vehicle_status (and the last vehicle_land_detected)."""
    mode, name = mode_of_nav_state(vehicle_status['nav_state'])
    landed = None if land_detected is None else bool(land_detected['landed'])
    return AutopilotStatus(mode=mode, mode_name=name,
                           armed=int(vehicle_status['arming_state']) == ARMING_STATE_ARMED,
                           landed=landed, failsafe=bool(vehicle_status.get('failsafe', False)))


@dataclass
class Px4Acks:
    """Matches vehicle_command_ack to the link commands sent. An ack names only the command
    number (DO_SET_MODE serves offboard and hold alike) and PX4 answers in order, so each
    number keeps its unanswered commands first in, first out (at most `depth`)."""

    depth: int = 8
    _sent: dict[int, deque[LinkCommand]] = field(default_factory=dict)

    def sent(self, command: LinkCommand, message: Mapping[str, Any]) -> None:
        """Remember what a VehicleCommand number stood for."""
        number = int(message['command'])
        self._sent.setdefault(number, deque(maxlen=self.depth)).append(command)

    def read(self, ack: Mapping[str, Any]) -> CommandAck | None:
        """A CommandAck, or None for an in-progress report or a command the link did not send."""
        pending = self._sent.get(int(ack['command']))
        result = int(ack['result'])
        if not pending or result == RESULT_IN_PROGRESS:
            return None
        command = pending.popleft()
        words = RESULTS.get(result, f'result {result}')
        detail = int(ack.get('result_param1', 0) or 0)
        reason = '' if result == RESULT_ACCEPTED else \
            f'{words}' + (f' (reason {detail})' if detail else '')
        return CommandAck(kind=command.kind, accepted=result == RESULT_ACCEPTED, reason=reason,
                          temporary=result == RESULT_TEMPORARILY_REJECTED, mode=command.mode)


def pose_from_px4(local_position: Mapping[str, Any], origin: LocalOrigin
                  ) -> tuple[tuple[float, float, float] | None, float | None]:
    """(ENU position from home, compass heading) of vehicle_local_position; None if invalid."""
    position = None
    if local_position['xy_valid'] and local_position['z_valid']:
        ned = (float(local_position['x']), float(local_position['y']),
               float(local_position['z']))
        if all(math.isfinite(v) for v in ned):
            position = origin.from_autopilot(ned)
    heading = float(local_position['heading'])
    return position, ned_yaw_to_heading(heading) if math.isfinite(heading) else None


class Px4Wire:
    """The link on PX4's topics: the messages for a LinkOutput, the link's inputs from PX4's.

    The ROS adapter publishes what `outgoing` returns (role -> topic via `Px4Topics`) and
    hands each incoming message to `status`, `land_detected` or `ack`.
    """

    def __init__(self, origin: LocalOrigin | None = None, target: Px4Target | None = None,
                 home_amsl_m: float | None = None) -> None:
        self.origin = origin or LocalOrigin()
        self.target = target or Px4Target()
        self.home_amsl_m = home_amsl_m
        self.acks = Px4Acks()
        self._land_detected: Mapping[str, Any] | None = None

    def outgoing(self, out: LinkOutput, now: float) -> list[tuple[str, dict[str, Any]]]:
        """(role, message) pairs to publish, in order: the stream first, then commands."""
        stamp = to_microseconds(now)
        messages: list[tuple[str, dict[str, Any]]] = []
        if out.stream and out.setpoint is not None:
            messages.append(('offboard_control_mode', offboard_control_mode(stamp)))
            messages.append(('trajectory_setpoint',
                             trajectory_setpoint(out.setpoint, self.origin, stamp)))
        for command in out.commands:
            message = vehicle_command(command, stamp, self.target, self.home_amsl_m)
            self.acks.sent(command, message)
            messages.append(('vehicle_command', message))
        return messages

    def land_detected(self, message: Mapping[str, Any]) -> None:
        """Keep the last vehicle_land_detected (it goes into the next status)."""
        self._land_detected = message

    def status(self, vehicle_status: Mapping[str, Any]) -> AutopilotStatus:
        """The link's status from vehicle_status and the last land detection."""
        return status_from_px4(vehicle_status, self._land_detected)

    def ack(self, message: Mapping[str, Any]) -> CommandAck | None:
        """The link's CommandAck for a vehicle_command_ack (None: not ours, or in progress)."""
        return self.acks.read(message)
