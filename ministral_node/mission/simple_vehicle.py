"""A simple simulated vehicle for the executor: flies towards the streamed setpoint at a fixed
speed, obeys takeoff, land, return_to_home and hold, counts photos. For tests, the CLI's
`--execute` and demos; no physics, no ROS.

    vehicle = SimVehicle()
    log = simulate(executor, decision, FakeClock(), vehicle)   # every status change
"""

from __future__ import annotations

import math
from collections.abc import Callable

from ministral_node.decision import Decision
from ministral_node.inputs.vehicle import VehicleState
from ministral_node.mission.executor import FINAL, ExecutorOutput, MissionExecutor
from ministral_node.timing import FakeClock


class SimVehicle:
    """Kinematic vehicle in local ENU metres; `heading` None is a vehicle without a compass."""

    def __init__(self, east: float = 0.0, north: float = 0.0, up: float = 0.0,
                 heading: float | None = 0.0, in_air: bool = False, speed_mps: float = 5.0,
                 climb_mps: float = 2.0, turn_deg_s: float = 45.0) -> None:
        self.position = [east, north, up]
        self.heading = heading
        self.in_air = in_air
        self.mode = 'hold'
        self.goal = None
        self.speed, self.climb, self.turn = speed_mps, climb_mps, turn_deg_s
        self.frozen = False  # ignores everything (a vehicle that never arrives)
        self.photos = 0

    def state(self, now: float) -> VehicleState:
        """The pose as the node would get it, stamped `now`."""
        return VehicleState().with_pose(*self.position, self.heading, now, in_air=self.in_air)

    def apply(self, out: ExecutorOutput) -> None:
        """Obey the executor's commands and setpoint."""
        for command in out.commands:
            name = command['command']
            if name == 'takeoff':
                self.in_air = True
            elif name in ('land', 'return_to_home', 'hold'):
                self.mode = name
            elif name == 'set_speed':
                self.speed = command['speed_mps']
            elif name == 'capture_photo':
                self.photos += 1
        if out.setpoint is not None:
            self.mode, self.goal = 'offboard', out.setpoint

    def step(self, dt: float) -> None:
        """Move for `dt` seconds."""
        if self.frozen:
            return
        if self.mode == 'offboard' and self.in_air:
            goal = self.goal
            self._fly((goal.x, goal.y), goal.z, dt)
            if self.heading is not None:
                wanted = (90.0 - math.degrees(goal.yaw)) % 360.0
                diff = (wanted - self.heading + 180.0) % 360.0 - 180.0
                turn = max(-self.turn * dt, min(self.turn * dt, diff))
                self.heading = (self.heading + turn) % 360.0
        elif self.mode == 'land':
            self._fly(self.position[:2], 0.0, dt)
        elif self.mode == 'return_to_home':
            if math.hypot(*self.position[:2]) > 0.1:
                self._fly((0.0, 0.0), self.position[2], dt)
            else:
                self._fly((0.0, 0.0), 0.0, dt)
        if self.position[2] <= 0.01 and self.mode in ('land', 'return_to_home'):
            self.in_air = False

    def _fly(self, xy: tuple[float, float] | list[float], z: float, dt: float) -> None:
        dx, dy = xy[0] - self.position[0], xy[1] - self.position[1]
        gap = math.hypot(dx, dy)
        move = min(gap, self.speed * dt)
        if gap > 1e-9:
            self.position[0] += dx / gap * move
            self.position[1] += dy / gap * move
        dz = z - self.position[2]
        self.position[2] += max(-self.climb * dt, min(self.climb * dt, dz))


def simulate(executor: MissionExecutor, decision: Decision, clock: FakeClock,
             vehicle: SimVehicle, rate_hz: float = 20.0, limit_s: float = 600.0,
             on_status: Callable[[dict], None] | None = None) -> list[dict]:
    """Run `decision` to its end (or `limit_s` of simulated time) against `vehicle`, ticking
    the executor at `rate_hz` as the node would; returns every status change."""
    statuses: list[dict] = []

    def take(out: ExecutorOutput) -> None:
        for status in out.statuses:
            statuses.append(status)
            if on_status is not None:
                on_status(status)
        vehicle.apply(out)

    take(executor.submit(decision, clock.now(), vehicle.state(clock.now())))
    dt = 1.0 / rate_hz
    for _ in range(int(limit_s * rate_hz)):
        clock.advance(dt)
        take(executor.update(clock.now(), vehicle.state(clock.now())))
        vehicle.step(dt)
        if executor.status(clock.now())['state'] in FINAL | {'idle'}:
            break
    return statuses
