"""MAVROS 2.x (mavros_msgs) as plain dicts, both ways, for PX4 and ArduPilot.

Mirrors mavros_msgs of MAVROS 2.12.0 (ros2 branch): State, ExtendedState, CommandBool,
SetMode, CommandTOL, CommandLong. MAVROS speaks ENU (`setpoint_position/local` is a
PoseStamped in the local ENU frame), so the node's setpoint goes out as it is; its origin is
the FCU's local origin, as for PX4 (`LocalOrigin` holds home in that frame, NED).

Mode names: PX4's custom modes as MAVROS spells them (OFFBOARD, AUTO.LAND, AUTO.RTL,
AUTO.LOITER) and ArduPilot copter's (GUIDED, LAND, RTL, BRAKE). A service call answers with a
response; `ack_from_response` turns it into the link's `CommandAck`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ministral_node.mission.executor import Setpoint
from ministral_node.vehicle_link.frames import LocalOrigin, enu_to_ned, ned_to_enu
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

RELEASE = 'MAVROS 2.x (mavros_msgs 2.12.0, ros2 branch)'
PX4, ARDUPILOT = 'px4', 'ardupilot'
AUTOPILOTS = (PX4, ARDUPILOT)

# Fields of the messages and services used (name -> .msg type), as in mavros_msgs 2.12.0.
FIELDS: dict[str, dict[str, str]] = {
    'msg/State': {'header': 'std_msgs/Header', 'connected': 'bool', 'armed': 'bool',
                  'guided': 'bool', 'manual_input': 'bool', 'mode': 'string',
                  'system_status': 'uint8'},
    'msg/ExtendedState': {'header': 'std_msgs/Header', 'vtol_state': 'uint8',
                          'landed_state': 'uint8'},
    'srv/CommandBool': {'value': 'bool', '---': '', 'success': 'bool', 'result': 'uint8'},
    'srv/SetMode': {'base_mode': 'uint8', 'custom_mode': 'string', '---': '',
                    'mode_sent': 'bool'},
    'srv/CommandTOL': {'min_pitch': 'float32', 'yaw': 'float32', 'latitude': 'float32',
                       'longitude': 'float32', 'altitude': 'float32', '---': '',
                       'success': 'bool', 'result': 'uint8'},
    'srv/CommandLong': {'broadcast': 'bool', 'command': 'uint16', 'confirmation': 'uint8',
                        'param1': 'float32', 'param2': 'float32', 'param3': 'float32',
                        'param4': 'float32', 'param5': 'float32', 'param6': 'float32',
                        'param7': 'float32', '---': '', 'success': 'bool', 'result': 'uint8'},
}
# ExtendedState.landed_state
LANDED_STATE_UNDEFINED, LANDED_STATE_ON_GROUND = 0, 1
# MAV_CMD numbers sent through cmd/command.
MAV_CMD_DO_CHANGE_SPEED, MAV_CMD_IMAGE_START_CAPTURE = 178, 2000
# MAV_RESULT words for a CommandBool / CommandLong / CommandTOL `result`.
RESULTS = {0: 'accepted', 1: 'temporarily rejected', 2: 'denied', 3: 'unsupported',
           4: 'failed', 5: 'in progress', 6: 'cancelled'}

# Link mode -> the mode name set_mode takes; and the names State.mode reports.
MODE_NAMES: dict[str, dict[str, str]] = {
    PX4: {OFFBOARD: 'OFFBOARD', HOLD: 'AUTO.LOITER', LAND: 'AUTO.LAND', RTL: 'AUTO.RTL'},
    ARDUPILOT: {OFFBOARD: 'GUIDED', HOLD: 'BRAKE', LAND: 'LAND', RTL: 'RTL'},
}
_REPORTED: dict[str, dict[str, str]] = {
    PX4: {'OFFBOARD': OFFBOARD, 'AUTO.LOITER': HOLD, 'AUTO.LAND': LAND, 'AUTO.PRECLAND': LAND,
          'AUTO.RTL': RTL, 'AUTO.TAKEOFF': TAKEOFF, 'AUTO.MISSION': MISSION,
          **dict.fromkeys(('MANUAL', 'ACRO', 'ALTCTL', 'POSCTL', 'STABILIZED', 'RATTITUDE'),
                          MANUAL)},
    ARDUPILOT: {'GUIDED': OFFBOARD, 'BRAKE': HOLD, 'LOITER': HOLD, 'LAND': LAND, 'RTL': RTL,
                'SMART_RTL': RTL, 'AUTO': MISSION,
                **dict.fromkeys(('STABILIZE', 'ACRO', 'ALT_HOLD', 'POSHOLD', 'SPORT', 'DRIFT',
                                 'FLIP', 'CIRCLE'), MANUAL)},
}
_PX4_ONLY = frozenset({'OFFBOARD', 'POSCTL', 'ALTCTL', 'STABILIZED'}) | {
    name for name in _REPORTED[PX4] if name.startswith('AUTO.')}
_ARDUPILOT_ONLY = frozenset({'GUIDED', 'BRAKE', 'ALT_HOLD', 'POSHOLD', 'STABILIZE',
                             'GUIDED_NOGPS'})


def autopilot_of_mode(mode: str) -> str | None:
    """Which autopilot a State.mode name belongs to (`autopilot` parameter left to `auto`)."""
    if mode in _PX4_ONLY:
        return PX4
    if mode in _ARDUPILOT_ONLY:
        return ARDUPILOT
    return None


@dataclass(frozen=True)
class MavrosTopics:
    """Topic and service names under the MAVROS namespace (`/mavros`, or `/uav1/mavros`)."""

    namespace: str = '/mavros'

    def names(self) -> dict[str, str]:
        """Role -> topic or service name."""
        ns = self.namespace.rstrip('/')
        return {
            'setpoint': f'{ns}/setpoint_position/local',
            'state': f'{ns}/state',
            'extended_state': f'{ns}/extended_state',
            'local_pose': f'{ns}/local_position/pose',
            'battery': f'{ns}/battery',
            'arming': f'{ns}/cmd/arming',
            'set_mode': f'{ns}/set_mode',
            'takeoff': f'{ns}/cmd/takeoff',
            'command': f'{ns}/cmd/command',
        }


def setpoint_pose(setpoint: Setpoint, origin: LocalOrigin) -> dict[str, Any]:
    """A node setpoint as `setpoint_position/local` (PoseStamped, ENU in the FCU frame)."""
    east, north, up = ned_to_enu(origin.to_autopilot((setpoint.x, setpoint.y, setpoint.z)))
    half = setpoint.yaw / 2.0
    return {'position': {'x': east, 'y': north, 'z': up},
            'orientation': {'x': 0.0, 'y': 0.0, 'z': math.sin(half), 'w': math.cos(half)}}


def pose_from_mavros(pose: Mapping[str, Any], origin: LocalOrigin
                     ) -> tuple[float, float, float]:
    """`local_position/pose` position (ENU in the FCU frame) as ENU from home."""
    p = pose['position']
    return origin.from_autopilot(enu_to_ned((float(p['x']), float(p['y']), float(p['z']))))


@dataclass(frozen=True)
class ServiceCall:
    """One MAVROS service request: `role` names the service in MavrosTopics.names()."""

    role: str
    request: dict[str, Any]


def service_call(command: LinkCommand, autopilot: str) -> ServiceCall:
    """A link command as a MAVROS service request for `autopilot` (px4 or ardupilot)."""
    if autopilot not in AUTOPILOTS:
        raise ValueError(f'autopilot is one of {AUTOPILOTS}, not {autopilot!r}')
    if command.kind == SET_MODE:
        name = MODE_NAMES[autopilot].get(command.mode)
        if name is None:
            raise ValueError(f'{autopilot} has no mode for {command.mode!r}')
        return ServiceCall('set_mode', {'base_mode': 0, 'custom_mode': name})
    if command.kind in (ARM, DISARM):
        return ServiceCall('arming', {'value': command.kind == ARM})
    if command.kind == TAKEOFF_COMMAND:
        # ArduPilot GUIDED takeoff: altitude relative to home; position and yaw: here
        return ServiceCall('takeoff', {'min_pitch': 0.0, 'yaw': math.nan, 'latitude': math.nan,
                                       'longitude': math.nan,
                                       'altitude': float(command.value)})
    params = [0.0] * 7
    if command.kind == SET_SPEED:
        number = MAV_CMD_DO_CHANGE_SPEED
        params[:3] = [1.0, float(command.value), -1.0]  # ground speed, m/s, throttle unchanged
    elif command.kind == CAPTURE_PHOTO:
        number = MAV_CMD_IMAGE_START_CAPTURE
        params[2:4] = [1.0, float(command.value or 0.0)]  # one image, its sequence number
    else:  # pragma: no cover - LinkCommand refuses other kinds
        raise ValueError(command.kind)
    return ServiceCall('command', {'broadcast': False, 'command': number, 'confirmation': 0,
                                   **{f'param{i + 1}': v for i, v in enumerate(params)}})


def ack_from_response(command: LinkCommand, response: Mapping[str, Any] | None
                      ) -> CommandAck | None:
    """A service response (None: the call failed or timed out) as the link's CommandAck.

    None for a set_mode that MAVROS sent: `mode_sent` says MAVROS sent it, not that the FCU
    accepted it, so the link waits for the mode in `state` (and resends on its timeout).
    """
    if response is None:
        return CommandAck(command.kind, False, 'MAVROS service call failed', temporary=True,
                          mode=command.mode)
    if command.kind == SET_MODE:
        if bool(response['mode_sent']):
            return None
        return CommandAck(command.kind, False, f'MAVROS did not send mode {command.mode}',
                          mode=command.mode)
    success = bool(response['success'])
    result = int(response.get('result', 0))
    reason = '' if success else RESULTS.get(result, f'result {result}')
    return CommandAck(command.kind, success, reason, temporary=result == 1, mode=command.mode)


def status_from_mavros(state: Mapping[str, Any], autopilot: str,
                       extended_state: Mapping[str, Any] | None = None) -> AutopilotStatus:
    """An AutopilotStatus from `state` (and the last `extended_state`)."""
    name = str(state['mode'])
    mode = _REPORTED[autopilot].get(name, OTHER)
    landed = None
    if extended_state is not None and \
            int(extended_state['landed_state']) != LANDED_STATE_UNDEFINED:
        landed = int(extended_state['landed_state']) == LANDED_STATE_ON_GROUND
    return AutopilotStatus(mode=mode, mode_name=name, armed=bool(state['armed']),
                           connected=bool(state['connected']), landed=landed)


class MavrosWire:
    """The link on MAVROS: the setpoint and the service calls for a LinkOutput, the link's
    inputs from `state`, `extended_state` and the service responses."""

    def __init__(self, autopilot: str = PX4, origin: LocalOrigin | None = None) -> None:
        if autopilot not in AUTOPILOTS:
            raise ValueError(f'autopilot is one of {AUTOPILOTS}, not {autopilot!r}')
        self.autopilot = autopilot
        self.origin = origin or LocalOrigin()
        self._extended: Mapping[str, Any] | None = None

    def setpoint(self, out: LinkOutput) -> dict[str, Any] | None:
        """The pose to publish on `setpoint_position/local` now (None: publish nothing)."""
        if not out.stream or out.setpoint is None:
            return None
        return setpoint_pose(out.setpoint, self.origin)

    def calls(self, out: LinkOutput) -> list[tuple[LinkCommand, ServiceCall]]:
        """The service calls to make, each with the command its response answers."""
        return [(command, service_call(command, self.autopilot)) for command in out.commands]

    def extended_state(self, message: Mapping[str, Any]) -> None:
        """Keep the last `extended_state` (landed_state goes into the next status)."""
        self._extended = message

    def status(self, state: Mapping[str, Any]) -> AutopilotStatus:
        """The link's status from `state` and the last `extended_state`."""
        return status_from_mavros(state, self.autopilot, self._extended)

    def response(self, command: LinkCommand, response: Mapping[str, Any] | None
                 ) -> CommandAck | None:
        """The link's CommandAck for a service response (None: wait for the state)."""
        return ack_from_response(command, response)
