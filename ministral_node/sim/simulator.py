"""The simulation loop: a fixed-step clock, the vehicle, the world, the camera and the faults.

    sim = Simulator.for_scenario(scenario, limits)
    sim.command({'command': 'takeoff', 'altitude_m': 10})    # ~/vehicle_command
    sim.setpoint(x, y, z, yaw)                                # setpoint_position
    sim.step()                                                # one fixed step (step_s)
    frame = sim.frame()                                       # a camera frame when one is due
    sim.pose(), sim.battery_pct(), sim.link_up()              # what the vehicle publishes
    sim.real_time_factor()

Every step is recorded (`sim.trace`) and checked against the safety invariants
(`sim.monitor`); `ministral_node.sim.scoring.score` turns both into a result.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ministral_node.safety.invariants import Limits, SafetyMonitor
from ministral_node.sim.faults import FaultSchedule
from ministral_node.sim.multirotor import Airframe, Multirotor
from ministral_node.sim.scenario import Scenario
from ministral_node.sim.world import CameraModel, Layout, PhysicsWorld, make_layout


@dataclass(frozen=True)
class Sample:
    """The true vehicle state after one step."""

    t: float
    position: tuple[float, float, float]
    speed_h: float
    speed_v: float
    heading_deg: float
    mode: str
    battery_pct: float
    touching: bool


@dataclass
class Frame:
    """A camera frame as the vehicle publishes it."""

    t: float
    image: np.ndarray
    repeated: bool = False


@dataclass
class Trace:
    """Everything that happened: samples every `record_every` steps, commands, frames."""

    samples: list[Sample] = field(default_factory=list)
    setpoints: list[tuple[float, tuple[float, float, float]]] = field(default_factory=list)
    sent: list[tuple[float, str]] = field(default_factory=list)  # operator commands
    decisions: list[dict] = field(default_factory=list)  # the node's, as received
    missions: list[dict] = field(default_factory=list)  # ~/mission status changes
    heartbeats: list[float] = field(default_factory=list)  # ground heartbeats sent
    # With a simulated autopilot (--vehicle px4|mavros): (t, nav_state) at each change and
    # (t, vehicle_command fields) of each command it received.
    autopilot_modes: list[tuple[float, int]] = field(default_factory=list)
    autopilot_commands: list[tuple[float, dict]] = field(default_factory=list)


class Simulator:
    """One scenario's world, stepped at a fixed `step_s`."""

    def __init__(self, layout: Layout, limits: Limits, camera: CameraModel | None = None,
                 faults: FaultSchedule | None = None, vehicle: Multirotor | None = None,
                 seed: int = 0, step_s: float = 0.02, render: bool = True,
                 contact_every: int = 5, heartbeat_rate_hz: float = 1.0) -> None:
        self.layout = layout
        self.limits = limits
        self.camera = camera or CameraModel()
        self.faults = faults or FaultSchedule()
        self.vehicle = vehicle or Multirotor()
        self.step_s = step_s
        self.t = 0.0
        self.steps = 0
        self.trace = Trace()
        self.monitor = SafetyMonitor(limits)
        self.world = PhysicsWorld(layout, seed) if render else None
        self._contact_every = contact_every
        self._touching = False
        self._next_frame = 0.0
        self._heartbeat_every = 1.0 / heartbeat_rate_hz
        self._next_heartbeat = 0.0
        self._last_frame: Frame | None = None
        self._battery_faults_done: set[int] = set()
        self._busy_s = 0.0  # wall time spent stepping and rendering

    @classmethod
    def for_scenario(cls, scenario: Scenario, limits: Limits, render: bool = True,
                     step_s: float = 0.02) -> Simulator:
        """The world, vehicle, camera and faults a scenario describes."""
        world = scenario.world
        layout = make_layout(int(world.get('seed', 0)), world.get('objects') or [],
                             int(world.get('clutter', 6)), float(world.get('extent_m', 60.0)),
                             ground=world.get('ground'))
        camera = CameraModel(**{k: v for k, v in scenario.camera.items()
                                if k in CameraModel.__dataclass_fields__})
        spec = scenario.vehicle
        start = [float(v) for v in spec.get('start', (0.0, 0.0, 0.0))]
        vehicle = Multirotor(Airframe(**spec.get('airframe', {})), position=start,
                             heading_deg=float(spec.get('heading_deg', 0.0)),
                             battery_pct=float(spec.get('battery_pct', 95.0)))
        if start[2] > 0.5:
            vehicle.mode = 'hold'
            vehicle.goal = tuple(start)
        return cls(layout, limits, camera, FaultSchedule(scenario.faults), vehicle,
                   int(world.get('seed', 0)), step_s, render)

    def close(self) -> None:
        """Free the PyBullet client."""
        if self.world is not None:
            self.world.close()

    # Inputs (what the node sends)

    def command(self, command: dict) -> None:
        """A `~/vehicle_command` dict."""
        self.vehicle.command(self.t, command)

    def setpoint(self, x: float, y: float, z: float, yaw_enu: float | None,
                 stamp: float | None = None) -> None:
        """A `setpoint_position` (local ENU, yaw counter-clockwise from east; `stamp`: its
        header's, seconds)."""
        self.vehicle.setpoint(self.t, x, y, z, yaw_enu, stamp)
        self.trace.setpoints.append((self.t, (x, y, z)))

    # Stepping

    def step(self) -> Sample:
        """Advance one fixed step; records and checks the new state."""
        began = time.perf_counter()
        self.steps += 1
        self.t = self.steps * self.step_s
        for index, fault in enumerate(self.faults.faults):
            if fault.kind == 'battery_low' and index not in self._battery_faults_done \
                    and self.t >= fault.at:
                self._battery_faults_done.add(index)
                self.vehicle.battery_pct = min(self.vehicle.battery_pct, fault.value)
        self.vehicle.step(self.t, self.step_s)
        v = self.vehicle
        if self.world is not None and self.steps % self._contact_every == 0:
            self.world.place_vehicle(v.position)
            self._touching = self.world.touching()
        sample = Sample(self.t, tuple(v.position), v.speed(), v.velocity[2], v.heading_deg,
                        v.mode, v.battery_pct, self._touching)
        self.trace.samples.append(sample)
        self.monitor.check(sample)
        self._busy_s += time.perf_counter() - began
        return sample

    def run_until(self, t: float) -> None:
        """Step until the clock reaches `t`."""
        while self.t + self.step_s / 2 < t:
            self.step()

    def real_time_factor(self) -> float:
        """Simulated seconds per second of wall time spent simulating (stepping + camera)."""
        return self.t / self._busy_s if self._busy_s > 0 else float('inf')

    # Outputs (what the vehicle publishes)

    def frame(self) -> Frame | None:
        """The camera frame due now (camera faults applied), or None between frames."""
        if self.world is None or self.t + 1e-9 < self._next_frame:
            return None
        self._next_frame += 1.0 / self.camera.rate_hz
        if self.faults.active('camera_stop', self.t):
            return None
        began = time.perf_counter()
        if self.faults.active('camera_freeze', self.t) and self._last_frame is not None:
            frame = Frame(self.t, self._last_frame.image, repeated=True)
        elif self.faults.active('camera_black', self.t):
            frame = Frame(self.t, np.zeros((self.camera.height, self.camera.width, 3),
                                           np.uint8))
        else:
            v = self.vehicle
            frame = Frame(self.t, self.world.render(self.camera, tuple(v.position),
                                                    v.heading_deg))
            self._last_frame = frame
        self._busy_s += time.perf_counter() - began
        return frame

    def pose(self) -> tuple[tuple[float, float, float], float] | None:
        """Position (ENU) and compass heading as the vehicle reports them; None while the
        pose is lost."""
        if self.faults.active('pose_lost', self.t):
            return None
        return tuple(self.vehicle.position), self.vehicle.heading_deg

    def battery_pct(self) -> float:
        return self.vehicle.battery_pct

    def link_up(self) -> bool:
        """Whether the ground station's heartbeat gets through."""
        return self.faults.active('link_loss', self.t) is None

    def heartbeat(self) -> bool:
        """Whether a ground heartbeat is sent now (its rate, while the link is up)."""
        if self.t + 1e-9 < self._next_heartbeat:
            return False
        self._next_heartbeat += self._heartbeat_every
        if not self.link_up():
            return False
        self.trace.heartbeats.append(self.t)
        return True

    def remote_up(self) -> bool:
        """Whether the remote model endpoint answers."""
        return self.faults.active('remote_down', self.t) is None
