"""Test-side autopilots over DDS: `SimAutopilot` (a simulated PX4, flying its kinematic body)
behind PX4's /fmu topics or behind MAVROS's topics and services (the package's
`ministral_node.ros.autopilot_over_dds`), in simulated time (/clock), for the node's link.

Each fake runs its own thread: it steps the simulated PX4 and publishes /clock, the status,
land detection and pose; what the node sends arrives through subscriptions and services and is
kept in `received` (role, simulated time, fields), in order.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from rosgraph_msgs.msg import Clock as ClockMsg

from ministral_node.ros.autopilot_over_dds import MavrosOverDds, Px4OverDds
from ministral_node.vehicle_link.mavros import MavrosTopics
from ministral_node.vehicle_link.px4 import Px4Topics
from ministral_node.vehicle_link.sim_autopilot import SimAutopilot, SimFaults

STEP_S = 0.05  # simulated seconds per step, at least
MAX_STEP_S = 0.1  # and at most
SPEEDUP = 4.0  # simulated time runs this much faster than the wall clock
START_S = 100.0


class FakeAutopilot:
    """The shared part: simulated time, the thread, the fault injected at an altitude."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.now = START_S
        self.autopilot = SimAutopilot(self.now)
        self.lock = threading.Lock()
        self.received: list[tuple[str, float, dict[str, Any]]] = []
        self.takeover_at_altitude_m: float | None = None
        self.takeover_time: float | None = None
        self.clock_pub = client.create_publisher(ClockMsg, '/clock', 10)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    @property
    def altitude_m(self) -> float:
        return -self.autopilot.position[2]

    def roles(self, role: str) -> list[tuple[float, dict[str, Any]]]:
        """(simulated time, fields) of everything received for `role`, in order."""
        with self.lock:
            return [(t, m) for r, t, m in self.received if r == role]

    def _keep(self, role: str, fields: dict[str, Any]) -> None:
        self.received.append((role, self.now, fields))

    def _run(self) -> None:
        last = time.monotonic()
        while not self.stop.is_set():
            wall = time.monotonic()
            dt = min(max((wall - last) * SPEEDUP, STEP_S), MAX_STEP_S)
            last = wall
            with self.lock:
                self.now += dt
                self.autopilot.step(self.now)
                if self.takeover_at_altitude_m is not None and self.takeover_time is None \
                        and self.altitude_m >= self.takeover_at_altitude_m:
                    # the pilot flips the RC mode switch to POSCTL now
                    self.takeover_time = self.now
                    self.autopilot.faults = SimFaults(rc_takeover_at=self.now)
                    self.autopilot.step(self.now + 1e-6)
                now = self.now
            clock = ClockMsg()
            clock.clock.sec, clock.clock.nanosec = int(now), int(now % 1 * 1e9)
            self.clock_pub.publish(clock)
            self.dds.publish()
            self.stop.wait(STEP_S / SPEEDUP)

    def close(self) -> None:
        self.stop.set()
        self.thread.join()


class FakePx4(FakeAutopilot):
    """PX4 over uXRCE-DDS (the package's `Px4OverDds`), in the fake's time."""

    def __init__(self, client: Any, topics: Px4Topics | None = None) -> None:
        super().__init__(client)
        self.dds = Px4OverDds(client, self.autopilot, self.lock, lambda: self.now, topics,
                              self._keep)


class FakeMavros(FakeAutopilot):
    """MAVROS in front of the simulated PX4 (the package's `MavrosOverDds`), in the fake's
    time."""

    def __init__(self, client: Any, topics: MavrosTopics | None = None) -> None:
        super().__init__(client)
        self.dds = MavrosOverDds(client, self.autopilot, self.lock, lambda: self.now, topics,
                                 self._keep)
