"""A fake-clock loop that wires the offboard link to the simulated PX4, through PX4's
messages (`Px4Wire`) or MAVROS (`MavrosWire` + `MavrosFacade`), as the ROS adapters will."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ministral_node.mission.executor import Setpoint
from ministral_node.vehicle_link.mavros import MavrosWire
from ministral_node.vehicle_link.offboard import LinkOutput, LinkSettings, OffboardLink
from ministral_node.vehicle_link.px4 import Px4Wire
from ministral_node.vehicle_link.sim_autopilot import MavrosFacade, SimAutopilot, SimFaults

START = 100.0
PERIOD = 0.05  # 20 Hz setpoint timer
STATUS_PERIOD = 0.2  # PX4 rate-limits vehicle_status to 5 Hz


@dataclass
class Flight:
    """One link, one simulated autopilot, one clock."""

    interface: str = 'px4'  # or 'mavros'
    faults: SimFaults = field(default_factory=SimFaults)
    settings: LinkSettings = field(default_factory=LinkSettings)
    # Another simulated PX4 (the simulator's FlightController) and what moves it on to a time.
    autopilot: SimAutopilot | None = None
    advance: Callable[[float], None] | None = None

    def __post_init__(self) -> None:
        self.sim = self.autopilot or SimAutopilot(START, self.faults)
        self.now = self.sim.now
        if self.advance is None:
            self.advance = self.sim.step
        self.link = OffboardLink(self.settings)
        self.px4 = Px4Wire()
        self.mavros = MavrosWire('px4')
        self.facade = MavrosFacade(self.sim)
        self.outputs: list[LinkOutput] = []
        self._next_status = self.now
        self.published_setpoints = 0
        self.status_muted = False  # the autopilot's status stops arriving (link loss)
        self.stream_muted = False  # what the link publishes stops arriving (node side lost)

    # what the executor would do
    def engage(self, setpoint: Setpoint, altitude: float | None = None) -> LinkOutput:
        return self._send(self.link.engage(self.now, setpoint, altitude))

    def hand_over(self, mode: str) -> LinkOutput:
        return self._send(self.link.hand_over(self.now, mode))

    def resume(self) -> LinkOutput:
        return self._send(self.link.resume(self.now))

    def run(self, seconds: float, until=None) -> None:
        """Tick the link and the autopilot for `seconds` (or until `until(flight)`)."""
        end = self.now + seconds
        while self.now < end - 1e-9:
            self.now = round(self.now + PERIOD, 6)
            self.advance(self.now)
            self._deliver()
            self._send(self.link.tick(self.now))
            if until is not None and until(self):
                return

    @property
    def events(self) -> list[tuple[str, str]]:
        return [(e.state, e.reason) for out in self.outputs for e in out.events]

    @property
    def aborts(self) -> list[str]:
        return [out.abort for out in self.outputs if out.abort]

    @property
    def states(self) -> list[str]:
        return [e[0] for e in self.events]

    def _send(self, out: LinkOutput) -> LinkOutput:
        self.outputs.append(out)
        if self.stream_muted:
            return out
        if self.interface == 'px4':
            for role, message in self.px4.outgoing(out, self.now):
                if role == 'trajectory_setpoint':
                    self.published_setpoints += 1
                self.sim.receive(role, message, self.now)
        else:
            pose = self.mavros.setpoint(out)
            if pose is not None:
                self.published_setpoints += 1
                self.facade.setpoint(pose, self.now)
            for command, call in self.mavros.calls(out):
                ack = self.mavros.response(command, self.facade.call(call, self.now))
                if ack is not None:
                    self._send(self.link.on_ack(self.now, ack))
        return out

    def _deliver(self) -> None:
        if self.interface == 'px4':
            for message in self.sim.take_acks():
                ack = self.px4.ack(message)
                if ack is not None:
                    self._send(self.link.on_ack(self.now, ack))
        else:
            self.sim.take_acks()  # answered through the service responses
        if self.now + 1e-9 >= self._next_status and not self.status_muted:
            self._next_status = self.now + STATUS_PERIOD
            if self.interface == 'px4':
                self.px4.land_detected(self.sim.vehicle_land_detected())
                status = self.px4.status(self.sim.vehicle_status())
            else:
                self.mavros.extended_state(self.facade.extended_state())
                status = self.mavros.status(self.facade.state())
            self._send(self.link.on_status(self.now, status))
