"""A simulated PX4 commander that behaves as PX4 documents, for tests and the simulator.

It speaks px4_msgs as the dicts of `px4.py`: `receive(role, message, now)` takes
offboard_control_mode, trajectory_setpoint and vehicle_command; `step(now)` moves time on;
`vehicle_status()`, `vehicle_land_detected()`, `vehicle_local_position()`, `battery_status()`
and `take_acks()` are what PX4 publishes. It flies a `Body`: `KinematicBody` (constant speeds)
unless given another, such as the simulator's multirotor. `MavrosFacade` puts MAVROS's topics
and services in front of it.

What it enforces (PX4 v1.16 docs and commander behaviour, simplified):
- Offboard is granted only after the proof of life (OffboardControlMode with position=true
  plus a TrajectorySetpoint) has streamed for more than 1 s without a gap over 0.5 s (> 2 Hz);
  otherwise DO_SET_MODE answers TEMPORARILY_REJECTED and the mode stays.
- Arming checks: a pre-flight check can fail (`arming_denied` fault: DENIED); arming in
  offboard needs the proof of life.
- Offboard loss: no proof of life for `COM_OF_LOSS_T` (1 s) in offboard is a failsafe: the
  mode goes to `offboard_loss_nav_state` (AUTO.LAND by default) with `failsafe` true.
- NAV_LAND and AUTO.LAND descend and land; NAV_RETURN_TO_LAUNCH climbs to the return
  altitude, flies home and lands; the land detector reports `landed`; landed and armed for
  `COM_DISARM_LAND` (2 s) disarms; armed and never airborne for `COM_DISARM_PRFLT` (10 s)
  disarms.
- Faults: `rc_takeover_at` (the pilot flips the RC mode switch to `rc_takeover_nav_state`,
  POSCTL by default, at that time), `offboard_rejected` (every offboard request refused),
  `arming_denied` (every arm refused).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ministral_node.vehicle_link import px4
from ministral_node.vehicle_link.frames import enu_to_ned, enu_yaw_to_ned, to_microseconds
from ministral_node.vehicle_link.mavros import MODE_NAMES, PX4, ServiceCall
from ministral_node.vehicle_link.vocabulary import ARM, DISARM, SET_MODE, LinkCommand

NAV_POSCTL, NAV_LOITER, NAV_RTL, NAV_OFFBOARD, NAV_LAND = 2, 4, 5, 14, 18
COM_OF_LOSS_T = 1.0
COM_DISARM_LAND = 2.0
COM_DISARM_PRFLT = 10.0
PROOF_OF_LIFE_S = 1.0  # PX4 1.16: offboard only after more than a second of proof of life
PROOF_OF_LIFE_GAP_S = 0.5  # > 2 Hz


@dataclass(frozen=True)
class SimFaults:
    """Faults to inject."""

    rc_takeover_at: float | None = None
    rc_takeover_nav_state: int = NAV_POSCTL
    offboard_rejected: bool = False
    arming_denied: bool = False


@dataclass(frozen=True)
class SimTraits:
    """The simulated vehicle's speeds and PX4 parameters."""

    horizontal_speed_mps: float = 5.0
    vertical_speed_mps: float = 2.0
    land_speed_mps: float = 1.0
    rtl_altitude_m: float = 30.0
    offboard_loss_nav_state: int = NAV_LAND
    initial_nav_state: int = NAV_LOITER
    battery_remaining: float = 0.9  # KinematicBody's battery, 0..1


class Body(Protocol):
    """The airframe the commander flies: local NED from home (ground at z = 0), radians.

    The commander tells it the navigation state and arming whenever either changes (`fly`),
    each offboard setpoint while it flies offboard armed (`follow`), and the other commands
    (`command`: speed, camera); `advance` moves time on. It reports its position, NED yaw,
    whether it is on the ground (the land detector's input) and the battery left (`remaining`,
    0..1). `KinematicBody` is the simple one; the simulator's multirotor is another
    (`ministral_node.sim.flight_controller`)."""

    def position(self) -> tuple[float, float, float]: ...

    def yaw(self) -> float: ...

    def on_ground(self) -> bool: ...

    def remaining(self) -> float: ...

    def fly(self, now: float, nav_state: int, armed: bool) -> None: ...

    def follow(self, now: float, setpoint: list[float], yaw: float) -> None: ...

    def command(self, now: float, message: Mapping[str, Any]) -> None: ...

    def advance(self, now: float, dt: float) -> None: ...


class KinematicBody:
    """Constant speeds towards the navigator's target: offboard setpoints, land here, RTL
    (climb to the return altitude, fly home, land)."""

    def __init__(self, traits: SimTraits | None = None) -> None:
        self.traits = traits or SimTraits()
        self.ned = [0.0, 0.0, 0.0]
        self.heading = 0.0  # NED yaw
        self._nav_state: int | None = None
        self._armed = False
        self._setpoint: list[float] | None = None
        self._setpoint_yaw = math.nan
        self._rtl_phase = ''

    def position(self) -> tuple[float, float, float]:
        return tuple(self.ned)

    def yaw(self) -> float:
        return self.heading

    def on_ground(self) -> bool:
        return self.ned[2] > -0.05

    def remaining(self) -> float:
        return self.traits.battery_remaining

    def fly(self, now: float, nav_state: int, armed: bool) -> None:
        if nav_state != self._nav_state:
            self._rtl_phase = 'climb' if nav_state == NAV_RTL else ''
        self._nav_state, self._armed = nav_state, armed

    def follow(self, now: float, setpoint: list[float], yaw: float) -> None:
        self._setpoint, self._setpoint_yaw = list(setpoint), yaw

    def command(self, now: float, message: Mapping[str, Any]) -> None:
        """Speed and camera commands change nothing here."""

    def advance(self, now: float, dt: float) -> None:
        if not self._armed:
            return
        target = None
        if self._nav_state == NAV_OFFBOARD and self._setpoint is not None:
            target = list(self._setpoint)
            if math.isfinite(self._setpoint_yaw):
                self.heading = self._setpoint_yaw
        elif self._nav_state == NAV_LAND:
            target = [self.ned[0], self.ned[1], 0.0]
        elif self._nav_state == NAV_RTL:
            target = self._rtl_target()
        if target is not None:
            self._move_towards(target, dt)

    def _rtl_target(self) -> list[float]:
        x, y, z = self.ned
        altitude = -self.traits.rtl_altitude_m
        if self._rtl_phase == 'climb':
            if z <= altitude + 0.1:
                self._rtl_phase = 'return'
            return [x, y, min(z, altitude)]
        if self._rtl_phase == 'return':
            if math.hypot(x, y) < 0.5:
                self._rtl_phase = 'land'
            return [0.0, 0.0, z]
        return [x, y, 0.0]

    def _move_towards(self, target: list[float], dt: float) -> None:
        dx, dy = target[0] - self.ned[0], target[1] - self.ned[1]
        dz = target[2] - self.ned[2]
        horizontal = math.hypot(dx, dy)
        step = self.traits.horizontal_speed_mps * dt
        if horizontal > step:
            dx, dy = dx * step / horizontal, dy * step / horizontal
        descending = self._nav_state == NAV_LAND or self._rtl_phase == 'land'
        vertical = (self.traits.land_speed_mps if descending and dz > 0
                    else self.traits.vertical_speed_mps) * dt
        dz = max(-vertical, min(vertical, dz))
        self.ned = [self.ned[0] + dx, self.ned[1] + dy, min(0.0, self.ned[2] + dz)]


class SimAutopilot:
    """PX4's commander, navigator and land detector, simplified (see the module docstring),
    flying a `Body` (a `KinematicBody` unless given)."""

    def __init__(self, now: float, faults: SimFaults | None = None,
                 traits: SimTraits | None = None, body: Body | None = None,
                 airborne: bool = False) -> None:
        """`airborne`: the body starts in the air, armed, in the initial mode (AUTO.LOITER)."""
        self.faults = faults or SimFaults()
        self.traits = traits or SimTraits()
        self.body = body if body is not None else KinematicBody(self.traits)
        self.now = now
        self.nav_state = self.traits.initial_nav_state
        self.armed = False
        self.failsafe = False
        self.landed = True
        self.airborne_once = False
        # every nav_state it has been in, and every vehicle_command received, with the time
        self.mode_log: list[tuple[float, int]] = [(now, self.nav_state)]
        self.command_log: list[tuple[float, dict[str, Any]]] = []
        self._setpoint: list[float] | None = None
        self._setpoint_yaw = math.nan
        self._pol_since: float | None = None
        self._pol_last: float | None = None
        self._armed_at = 0.0
        self._landed_since: float | None = now
        self._acks: list[dict[str, Any]] = []
        self._rc_done = False
        self._told: tuple[int, bool] | None = None  # what the body was last told to fly
        if airborne:
            self.armed, self.landed, self.airborne_once = True, False, True
            self._landed_since = None

    @property
    def modes(self) -> list[int]:
        """Every nav_state it has been in, in order."""
        return [mode for _, mode in self.mode_log]

    @property
    def commands(self) -> list[dict[str, Any]]:
        """Every vehicle_command received, in order."""
        return [message for _, message in self.command_log]

    @property
    def position(self) -> list[float]:
        """Local NED from home (ground at z = 0)."""
        return list(self.body.position())

    @property
    def yaw(self) -> float:
        """NED yaw, radians."""
        return self.body.yaw()

    # -- what PX4 subscribes to --------------------------------------------------------------

    def receive(self, role: str, message: Mapping[str, Any], now: float) -> None:
        """One message on /fmu/in/<role>."""
        self.step(now)
        if role == 'offboard_control_mode':
            if not message['position']:
                return
            if self._pol_last is None or now - self._pol_last > PROOF_OF_LIFE_GAP_S:
                self._pol_since = now
            self._pol_last = now
        elif role == 'trajectory_setpoint':
            self._setpoint = [float(v) for v in message['position']]
            self._setpoint_yaw = float(message['yaw'])
            self._follow()
        elif role == 'vehicle_command':
            self.command_log.append((now, dict(message)))
            self._command(message)
            self._tell_body()
        else:
            raise ValueError(f'PX4 does not subscribe to {role!r}')

    def _proof_of_life(self) -> bool:
        return self._pol_last is not None and self.now - self._pol_last <= PROOF_OF_LIFE_GAP_S

    def _offboard_ready(self) -> bool:
        return self._proof_of_life() and self._setpoint is not None \
            and self.now - self._pol_since > PROOF_OF_LIFE_S

    def _command(self, message: Mapping[str, Any]) -> None:
        number = int(message['command'])
        result = px4.RESULT_ACCEPTED
        if number == px4.VEHICLE_CMD_DO_SET_MODE:
            main, sub = int(message['param2']), int(message['param3'])
            if main == px4.MAIN_MODE_OFFBOARD:
                if self.faults.offboard_rejected or not self._offboard_ready():
                    result = px4.RESULT_TEMPORARILY_REJECTED
                else:
                    self._set_mode(NAV_OFFBOARD)
            elif main == px4.MAIN_MODE_AUTO and sub in (px4.SUB_MODE_AUTO_LOITER,
                                                        px4.SUB_MODE_AUTO_RTL,
                                                        px4.SUB_MODE_AUTO_LAND):
                self._set_mode({px4.SUB_MODE_AUTO_LOITER: NAV_LOITER,
                                px4.SUB_MODE_AUTO_RTL: NAV_RTL,
                                px4.SUB_MODE_AUTO_LAND: NAV_LAND}[sub])
            else:
                result = 3  # unsupported here
        elif number == px4.VEHICLE_CMD_NAV_LAND:
            self._set_mode(NAV_LAND)
        elif number == px4.VEHICLE_CMD_NAV_RETURN_TO_LAUNCH:
            self._set_mode(NAV_RTL)
        elif number == px4.VEHICLE_CMD_COMPONENT_ARM_DISARM:
            result = self._arm(bool(round(float(message['param1']))))
        elif number in (px4.VEHICLE_CMD_DO_CHANGE_SPEED, px4.VEHICLE_CMD_IMAGE_START_CAPTURE):
            self.body.command(self.now, message)
        else:
            result = 3
        self._acks.append({'timestamp': to_microseconds(self.now), 'command': number,
                           'result': result, 'result_param1': 0, 'result_param2': 0,
                           'target_system': int(message['source_system']),
                           'target_component': int(message['source_component']),
                           'from_external': False})

    def _arm(self, arm: bool) -> int:
        if not arm:
            if not self.landed:
                return 2  # PX4 refuses a plain disarm in the air
            self._disarm()
            return px4.RESULT_ACCEPTED
        if self.armed:
            return px4.RESULT_ACCEPTED
        if self.faults.arming_denied:
            return 2
        if self.nav_state == NAV_OFFBOARD and not self._proof_of_life():
            return px4.RESULT_TEMPORARILY_REJECTED
        self.armed, self._armed_at = True, self.now
        return px4.RESULT_ACCEPTED

    def _disarm(self) -> None:
        self.armed = False
        self.airborne_once = False

    def _set_mode(self, nav_state: int, failsafe: bool = False) -> None:
        self.failsafe = failsafe
        if nav_state != self.nav_state:
            self.nav_state = nav_state
            self.mode_log.append((self.now, nav_state))

    def _tell_body(self) -> None:
        """Tell the body a new navigation state or arming, then the offboard setpoint."""
        if self._told == (self.nav_state, self.armed):
            return
        self._told = (self.nav_state, self.armed)
        self.body.fly(self.now, self.nav_state, self.armed)
        self._follow()

    def _follow(self) -> None:
        if self.armed and self.nav_state == NAV_OFFBOARD and self._setpoint is not None:
            self.body.follow(self.now, self._setpoint, self._setpoint_yaw)

    # -- time --------------------------------------------------------------------------------

    def step(self, now: float) -> None:
        """Move the vehicle and the commander's checks on to `now`, in small steps."""
        while self.now < now - 1e-9:
            dt = min(0.02, now - self.now)
            self.now += dt
            self._step(dt)

    def _step(self, dt: float) -> None:
        if self.faults.rc_takeover_at is not None and not self._rc_done \
                and self.now >= self.faults.rc_takeover_at:
            self._rc_done = True
            self._set_mode(self.faults.rc_takeover_nav_state)
        if self.nav_state == NAV_OFFBOARD and (
                self._pol_last is None or self.now - self._pol_last > COM_OF_LOSS_T):
            self._set_mode(self.traits.offboard_loss_nav_state, failsafe=True)
        self._tell_body()
        self.body.advance(self.now, dt)
        self._detect_land()
        self._tell_body()

    def _detect_land(self) -> None:
        on_ground = self.body.on_ground()
        if not on_ground:
            self.airborne_once = True
        was = self.landed
        self.landed = on_ground and not (self.armed and self._climbing())
        if self.landed and not was:
            self._landed_since = self.now
        if not self.landed:
            self._landed_since = None
        if self.armed and self.landed and self.airborne_once \
                and self.now - (self._landed_since or self.now) >= COM_DISARM_LAND:
            self._disarm()
        elif self.armed and not self.airborne_once \
                and self.now - self._armed_at >= COM_DISARM_PRFLT:
            self._disarm()

    def _climbing(self) -> bool:
        return self.nav_state == NAV_OFFBOARD and self._setpoint is not None \
            and self._setpoint[2] < -0.05

    # -- what PX4 publishes ------------------------------------------------------------------

    def vehicle_status(self) -> dict[str, Any]:
        """/fmu/out/vehicle_status(_v1), the fields the link reads and a few more."""
        return {'timestamp': to_microseconds(self.now),
                'arming_state': px4.ARMING_STATE_ARMED if self.armed
                else px4.ARMING_STATE_DISARMED,
                'nav_state': self.nav_state, 'nav_state_user_intention': self.nav_state,
                'failsafe': self.failsafe, 'gcs_connection_lost': False,
                'pre_flight_checks_pass': not self.faults.arming_denied}

    def vehicle_land_detected(self) -> dict[str, Any]:
        """/fmu/out/vehicle_land_detected."""
        return {'timestamp': to_microseconds(self.now), 'landed': self.landed,
                'maybe_landed': self.landed}

    def vehicle_local_position(self) -> dict[str, Any]:
        """/fmu/out/vehicle_local_position (NED, heading = NED yaw)."""
        x, y, z = self.position
        return {'timestamp': to_microseconds(self.now), 'xy_valid': True, 'z_valid': True,
                'x': x, 'y': y, 'z': z, 'vx': 0.0, 'vy': 0.0, 'vz': 0.0, 'heading': self.yaw}

    def battery_status(self) -> dict[str, Any]:
        """/fmu/out/battery_status (remaining 0..1)."""
        return {'timestamp': to_microseconds(self.now), 'connected': True,
                'remaining': float(self.body.remaining())}

    def take_acks(self) -> list[dict[str, Any]]:
        """The vehicle_command_ack messages published since the last call."""
        acks, self._acks = self._acks, []
        return acks


_PX4_MODE_COMMANDS = {name: mode for mode, name in MODE_NAMES[PX4].items()}


class MavrosFacade:
    """MAVROS in front of the simulated PX4: the setpoint topic is the proof of life, the
    services answer as MAVROS does (set_mode: `mode_sent`; arming: the FCU's ack)."""

    def __init__(self, autopilot: SimAutopilot) -> None:
        self.autopilot = autopilot

    def setpoint(self, pose: Mapping[str, Any], now: float) -> None:
        """A `setpoint_position/local` PoseStamped (ENU): MAVROS sends SET_POSITION_TARGET."""
        p, q = pose['position'], pose['orientation']
        yaw_enu = 2.0 * math.atan2(q['z'], q['w'])
        self.autopilot.receive('offboard_control_mode', px4.offboard_control_mode(0), now)
        self.autopilot.receive('trajectory_setpoint', {
            'position': list(enu_to_ned((p['x'], p['y'], p['z']))),
            'yaw': enu_yaw_to_ned(yaw_enu)}, now)

    def call(self, call: ServiceCall, now: float) -> dict[str, Any]:
        """A service call; returns the response."""
        if call.role == 'set_mode':
            mode = _PX4_MODE_COMMANDS.get(call.request['custom_mode'])
            if mode is None:
                return {'mode_sent': False}
            self._send(px4.vehicle_command(LinkCommand(SET_MODE, mode=mode), 0), now)
            return {'mode_sent': True}
        if call.role == 'arming':
            kind = ARM if call.request['value'] else DISARM
            ack = self._send(px4.vehicle_command(LinkCommand(kind), 0), now)
            return {'success': ack['result'] == px4.RESULT_ACCEPTED, 'result': ack['result']}
        if call.role == 'command':
            message = {'command': call.request['command'], 'source_system': 1,
                       'source_component': 1,
                       **{f'param{i}': call.request[f'param{i}'] for i in range(1, 8)}}
            ack = self._send(message, now)
            return {'success': ack['result'] == px4.RESULT_ACCEPTED, 'result': ack['result']}
        raise ValueError(f'the PX4 facade has no {call.role!r} service')

    def _send(self, message: Mapping[str, Any], now: float) -> dict[str, Any]:
        self.autopilot.receive('vehicle_command', message, now)
        return self.autopilot.take_acks()[-1]

    def state(self) -> dict[str, Any]:
        """`state` (mavros_msgs/State) as MAVROS reports PX4."""
        status = self.autopilot.vehicle_status()
        _, name = px4.mode_of_nav_state(status['nav_state'])
        return {'connected': True, 'armed': self.autopilot.armed,
                'guided': status['nav_state'] in (NAV_OFFBOARD, NAV_LOITER, NAV_RTL, NAV_LAND),
                'manual_input': False, 'mode': name, 'system_status': 4}

    def extended_state(self) -> dict[str, Any]:
        """`extended_state` (landed_state 1 on ground, 2 in air)."""
        return {'vtol_state': 0, 'landed_state': 1 if self.autopilot.landed else 2}

