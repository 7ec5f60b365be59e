"""A multirotor as an autopilot flies it: position setpoints (offboard) and autopilot modes.

Point-mass dynamics in local ENU metres integrated at the simulator's fixed step: the
autopilot's position controller asks for a velocity towards its goal (slowing down so it can
stop), bounded by the cruise speed and the vertical limits, and the velocity changes with
bounded acceleration. Modes follow PX4: `landed`, `takeoff`, `offboard` (streamed
setpoints; no setpoint for `offboard_loss_s` -> `hold`, COM_OF_LOSS_T), `hold`, `land`,
`return_to_home` (climb to `rtl_altitude_m` if lower, fly home, land). The battery drains
with flight time and speed.

Commands are the node's `~/vehicle_command` dicts: takeoff {altitude_m}, land,
return_to_home, hold, set_speed {speed_mps}, capture_photo. With a simulated PX4 in front
(`sim.flight_controller`), its commander decides the modes: `enter_offboard` when it grants
offboard, `motors_off` when it disarms, the same commands for the rest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

LANDED, TAKEOFF, OFFBOARD, HOLD, LAND, RTL = (
    'landed', 'takeoff', 'offboard', 'hold', 'land', 'return_to_home')


@dataclass(frozen=True)
class Airframe:
    """Physical and autopilot limits (PX4 multicopter defaults where they exist)."""

    max_speed_mps: float = 20.0  # what the airframe can do (the envelope asks less)
    cruise_speed_mps: float = 5.0  # MPC_XY_CRUISE until a set_speed
    climb_speed_mps: float = 3.0  # MPC_Z_VEL_MAX_UP
    descent_speed_mps: float = 1.5  # MPC_Z_VEL_MAX_DN
    land_speed_mps: float = 0.7  # MPC_LAND_SPEED, below land_slow_altitude_m
    land_slow_altitude_m: float = 5.0  # MPC_LAND_ALT2: descends at descent speed above
    max_accel_mps2: float = 3.0  # MPC_ACC_HOR
    max_vertical_accel_mps2: float = 3.0
    yaw_rate_deg_s: float = 60.0
    rtl_altitude_m: float = 15.0  # RTL_RETURN_ALT (relative to home)
    offboard_loss_s: float = 1.0  # COM_OF_LOSS_T
    offboard_entry_s: float = 0.5  # setpoints stream this long before OFFBOARD is taken
    hover_drain_pct_s: float = 0.06  # about 25 min of hover on a full battery
    speed_drain_pct_s: float = 0.002  # extra per (m/s)^2


@dataclass
class Photo:
    """A photo the vehicle took: when and where."""

    t: float
    position: tuple[float, float, float]
    heading_deg: float


@dataclass
class Multirotor:
    """The vehicle's true state; `command`, `setpoint` and `step` change it."""

    airframe: Airframe = field(default_factory=Airframe)
    position: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    velocity: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    heading_deg: float = 0.0
    battery_pct: float = 100.0
    mode: str = LANDED
    goal: tuple[float, float, float] | None = None
    goal_heading: float | None = None
    cruise_mps: float | None = None
    photos: list[Photo] = field(default_factory=list)
    commands: list[tuple[float, dict]] = field(default_factory=list)
    last_setpoint_t: float | None = None
    rtl_phase: str = ''
    mode_command_t: float | None = None  # last takeoff/land/return_to_home/hold command
    mode_command_stamp: float | None = None  # the node's stamp on it (seconds), when it had one
    stale_setpoints: int = 0  # setpoints stamped before the last mode command: ignored
    stream_started: float | None = None

    def __post_init__(self) -> None:
        if self.cruise_mps is None:
            self.cruise_mps = self.airframe.cruise_speed_mps

    @property
    def in_air(self) -> bool:
        return self.mode != LANDED

    # Inputs

    def command(self, t: float, command: dict) -> None:
        """Obey one `~/vehicle_command` dict (unknown commands are recorded and ignored)."""
        self.commands.append((t, dict(command)))
        name = command.get('command')
        if name in ('takeoff', 'land', 'return_to_home', 'hold'):
            self.mode_command_t = t
            stamp = command.get('stamp')
            if isinstance(stamp, (int, float)) and math.isfinite(stamp):
                self.mode_command_stamp = float(stamp)
        if name == 'takeoff':
            altitude = float(command.get('altitude_m', 10.0))
            if self.mode == LANDED:
                self.mode = TAKEOFF
                self.goal = (self.position[0], self.position[1], altitude)
            elif self.mode != OFFBOARD:
                self.mode, self.goal = HOLD, (self.position[0], self.position[1], altitude)
        elif name == 'land' and self.in_air:
            self.mode = LAND
        elif name == 'return_to_home' and self.in_air:
            self.mode, self.rtl_phase = RTL, 'climb'
        elif name == 'hold' and self.in_air:
            self._hold()
        elif name == 'set_speed':
            speed = float(command.get('speed_mps', self.cruise_mps))
            self.cruise_mps = max(0.1, min(speed, self.airframe.max_speed_mps))
        elif name == 'capture_photo':
            self.photos.append(Photo(t, tuple(self.position), self.heading_deg))

    def setpoint(self, t: float, x: float, y: float, z: float, yaw_enu: float | None,
                 stamp: float | None = None) -> None:
        """A streamed position setpoint (local ENU, yaw counter-clockwise from east). A flying
        vehicle switches to offboard once setpoints have streamed for `offboard_entry_s`
        after its last mode command (as PX4 wants a stream before it accepts OFFBOARD), so a
        late setpoint does not undo a land or a return. A setpoint `stamp`ed (the node's
        clock, seconds) before the last mode command's stamp was sent before it and reached
        us after it, on the other topic: it is ignored (`stale_setpoints`)."""
        if not all(math.isfinite(v) for v in (x, y, z)):
            return
        if stamp is not None and self.mode_command_stamp is not None \
                and stamp < self.mode_command_stamp:
            self.stale_setpoints += 1
            return
        gap = math.inf if self.last_setpoint_t is None else t - self.last_setpoint_t
        self.last_setpoint_t = t
        if self.stream_started is None or gap > self.airframe.offboard_loss_s / 2:
            self.stream_started = t
        if self.mode == LANDED:
            return  # PX4 needs an arm/takeoff first
        if self.mode != OFFBOARD:
            if self.mode_command_t is not None and self.stream_started <= self.mode_command_t:
                self.stream_started = t
            if t - self.stream_started < self.airframe.offboard_entry_s:
                return
            self.mode = OFFBOARD
        self.goal = (x, y, z)
        self.goal_heading = None if yaw_enu is None or not math.isfinite(yaw_enu) else \
            (90.0 - math.degrees(yaw_enu)) % 360.0

    def enter_offboard(self, t: float) -> None:
        """An autopilot's commander granted offboard (vehicle_interface px4, mavros: it checked
        the stream itself): follow the next setpoints at once, holding here until then."""
        self.mode, self.goal = OFFBOARD, self._stopping_point()
        self.last_setpoint_t = self.stream_started = t

    def motors_off(self, t: float) -> None:
        """The autopilot disarmed on the ground: landed wherever the mode was."""
        if self.position[2] <= 0.05:
            self.mode, self.velocity, self.goal = LANDED, [0.0, 0.0, 0.0], None

    # Dynamics

    def step(self, t: float, dt: float) -> None:
        """Advance the vehicle by `dt` seconds (ending at time `t`)."""
        a = self.airframe
        if self.mode == OFFBOARD and (self.last_setpoint_t is None
                                      or t - self.last_setpoint_t > a.offboard_loss_s):
            self._hold()
        goal, vertical_limit = self._goal()
        if self.mode == LANDED:
            self.velocity = [0.0, 0.0, 0.0]
        else:
            self._control(goal, vertical_limit, dt)
            self._turn(dt)
            self.battery_pct = max(0.0, self.battery_pct - dt * (
                a.hover_drain_pct_s + a.speed_drain_pct_s * self.speed() ** 2))
        for i in range(3):
            self.position[i] += self.velocity[i] * dt
        if self.position[2] <= 0.0:
            self.position[2] = 0.0
            self.velocity[2] = max(0.0, self.velocity[2])
            if self.mode in (LAND, RTL) and self._descending():
                self.mode, self.velocity, self.goal = LANDED, [0.0, 0.0, 0.0], None

    def speed(self) -> float:
        """Horizontal speed, m/s."""
        return math.hypot(self.velocity[0], self.velocity[1])

    def _descending(self) -> bool:
        return self.mode == LAND or self.rtl_phase == 'descend'

    def _hold(self) -> None:
        self.mode, self.goal = HOLD, self._stopping_point()

    def _stopping_point(self) -> tuple[float, float, float]:
        """Where the vehicle stops braking at full deceleration (PX4 hold does the same)."""
        a = self.airframe.max_accel_mps2
        return tuple(p + v * abs(v) / (2 * a) for p, v in zip(self.position, self.velocity))

    def _goal(self) -> tuple[tuple[float, float, float] | None, float]:
        a = self.airframe
        here = self.position
        landing = a.descent_speed_mps if here[2] > a.land_slow_altitude_m else a.land_speed_mps
        if self.mode == LAND:
            return (here[0], here[1], -1.0), landing
        if self.mode == RTL:
            if self.rtl_phase == 'climb':
                if here[2] >= a.rtl_altitude_m - 0.5:
                    self.rtl_phase = 'return'
                return (here[0], here[1], max(here[2], a.rtl_altitude_m)), a.climb_speed_mps
            if self.rtl_phase == 'return':
                if math.hypot(here[0], here[1]) < 0.3:
                    self.rtl_phase = 'descend'
                return (0.0, 0.0, here[2]), a.climb_speed_mps
            return (0.0, 0.0, -1.0), landing
        return self.goal, a.climb_speed_mps

    def _control(self, goal: tuple[float, float, float] | None, vertical_limit: float,
                 dt: float) -> None:
        a = self.airframe
        if goal is None:
            goal = tuple(self.position)
        error = [g - p for g, p in zip(goal, self.position)]
        horizontal = math.hypot(error[0], error[1])
        cruise = min(self.cruise_mps, a.max_speed_mps)
        # Speed that still lets the vehicle stop at the goal, a P term near it.
        want_h = min(cruise, math.sqrt(2 * a.max_accel_mps2 * horizontal) * 0.9,
                     1.5 * horizontal)
        want = [0.0, 0.0, 0.0]
        if horizontal > 1e-6:
            want[0], want[1] = error[0] / horizontal * want_h, error[1] / horizontal * want_h
        up_limit = vertical_limit if error[2] > 0 else min(vertical_limit, a.descent_speed_mps)
        want[2] = math.copysign(min(up_limit, math.sqrt(
            2 * a.max_vertical_accel_mps2 * abs(error[2])) * 0.9, 1.5 * abs(error[2])),
            error[2])
        dv = [w - v for w, v in zip(want, self.velocity)]
        dv_h = math.hypot(dv[0], dv[1])
        limit_h = a.max_accel_mps2 * dt
        if dv_h > limit_h:
            dv[0], dv[1] = dv[0] / dv_h * limit_h, dv[1] / dv_h * limit_h
        limit_v = a.max_vertical_accel_mps2 * dt
        dv[2] = max(-limit_v, min(limit_v, dv[2]))
        self.velocity = [v + d for v, d in zip(self.velocity, dv)]
        if self.mode == TAKEOFF and abs(error[2]) < 0.2:
            self.mode = HOLD

    def _turn(self, dt: float) -> None:
        wanted = self.goal_heading if self.mode == OFFBOARD else None
        if wanted is None:
            return
        diff = (wanted - self.heading_deg + 180.0) % 360.0 - 180.0
        limit = self.airframe.yaw_rate_deg_s * dt
        self.heading_deg = (self.heading_deg + max(-limit, min(limit, diff))) % 360.0
