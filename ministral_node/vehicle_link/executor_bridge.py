"""The mission executor's output mapped onto the offboard link (vehicle_interface px4/mavros).

The executor speaks setpoints and JSON vehicle commands (`ExecutorOutput`); the link speaks
the handshake. On every executor output (submit or the setpoint timer) the node calls
`ExecutorBridge.apply` (and `tick` on the timer), publishes what comes back through
`Px4Wire`/`MavrosWire`, and aborts the executor's mission with each reason in `aborts`:

- `takeoff` (with the setpoint above the start): `engage` with the takeoff altitude, so the
  handshake runs, then the setpoint climbs (ArduPilot GUIDED: `cmd/takeoff` after arming);
- a setpoint: `engage` when the link is not in offboard (starts the handshake), else `update`;
  a hold or stop step's setpoint (`in_place`) outside offboard is the autopilot's own hold
  instead: `hand_over` to HOLD when the vehicle flies, nothing on the ground (a hold never arms);
- `land`, `return_to_home`, `hold`: `hand_over` to LAND, RTL, HOLD (the autopilot's modes);
- `set_speed`: DO_CHANGE_SPEED (178), ground speed; `capture_photo`: IMAGE_START_CAPTURE
  (2000), one image.

An output that is no longer current (`current`, the executor's `MissionExecutor.current`: its
mission ended since it was computed, e.g. a setpoint tick that raced an autopilot takeover and
reaches the link after the operator's resume) is dropped: nothing of an ended mission engages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ministral_node.decision import Decision, steps_of
from ministral_node.mission.executor import NOT_EXECUTED, ExecutorOutput, Setpoint
from ministral_node.vehicle_link.offboard import (
    ACTIVE,
    ARMING,
    PRIMING,
    REQUESTING,
    TAKEN_OVER,
    TAKING_OFF,
    LinkEvent,
    LinkOutput,
    OffboardLink,
)
from ministral_node.vehicle_link.vocabulary import (
    CAPTURE_PHOTO,
    HOLD,
    LAND,
    RTL,
    SET_SPEED,
    LinkCommand,
)

_HANDOVERS = {'land': LAND, 'return_to_home': RTL, 'hold': HOLD}
_PASSED_THROUGH = frozenset({'set_speed'})  # sent whatever the link's state
_ENGAGED = frozenset({PRIMING, REQUESTING, ARMING, TAKING_OFF, ACTIVE})


@dataclass
class BridgeOutput:
    """What to publish after one executor output: the link's outputs merged, in order."""

    state: str
    stream: bool = False
    setpoint: Setpoint | None = None
    commands: list[LinkCommand] = field(default_factory=list)
    events: list[LinkEvent] = field(default_factory=list)
    aborts: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, out: LinkOutput) -> BridgeOutput:
        """One link output (from on_status / on_ack) in the same shape."""
        merged = cls(out.state)
        ExecutorBridge._merge(merged, out)
        return merged

    def as_link_output(self) -> LinkOutput:
        """The same as one LinkOutput (for Px4Wire.outgoing / MavrosWire)."""
        return LinkOutput(self.state, self.stream, self.setpoint, list(self.commands),
                          list(self.events), self.aborts[0] if self.aborts else None)


class ExecutorBridge:
    """Maps executor outputs onto an OffboardLink (see the module docstring)."""

    def __init__(self, link: OffboardLink,
                 current: Callable[[ExecutorOutput], bool] = lambda out: True) -> None:
        self.link = link
        self.current = current

    def apply(self, out: ExecutorOutput, now: float) -> BridgeOutput:
        """One executor output: its commands in order, then its setpoint (nothing when the
        output is no longer current)."""
        merged = BridgeOutput(self.link.state)
        if not self.current(out):
            return merged
        takeoff_altitude = None
        for command in out.commands:
            name = command.get('command')
            if name == 'takeoff':
                takeoff_altitude = command.get('altitude_m')
            elif name in _HANDOVERS:
                self._merge(merged, self.link.hand_over(now, _HANDOVERS[name]))
            elif name == 'set_speed':
                merged.commands.append(LinkCommand(SET_SPEED, value=float(command['speed_mps'])))
            elif name == 'capture_photo':
                merged.commands.append(LinkCommand(CAPTURE_PHOTO,
                                                   value=float(command.get('index', 0))))
        if out.setpoint is not None and not merged.aborts:
            if self.link.state in _ENGAGED:
                self._merge(merged, self.link.update(now, out.setpoint))
            elif out.in_place and self.link.state != TAKEN_OVER:
                if self._flying():
                    self._merge(merged, self.link.hand_over(now, HOLD))
            else:
                self._merge(merged, self.link.engage(now, out.setpoint, takeoff_altitude))
        return merged

    def _flying(self) -> bool:
        status = self.link.status
        return status is not None and status.armed and status.landed is not True

    def refusal(self, decision: Decision) -> str | None:
        """Why the link will not fly `decision` (a takeover not yet resumed), for its notes
        before it is published; None when it will (or the decision moves nothing)."""
        moves = decision.action not in NOT_EXECUTED and any(
            step.action not in _PASSED_THROUGH for step in steps_of(decision.proposal))
        return self.link.blocked() if moves else None

    def tick(self, out: ExecutorOutput, now: float) -> BridgeOutput:
        """On the setpoint timer: the executor's output, then the link's timeouts."""
        merged = self.apply(out, now)
        self._merge(merged, self.link.tick(now))
        return merged

    @staticmethod
    def _merge(merged: BridgeOutput, out: LinkOutput) -> None:
        merged.state = out.state
        merged.stream, merged.setpoint = out.stream, out.setpoint
        merged.commands += out.commands
        merged.events += out.events
        if out.abort:
            merged.aborts.append(out.abort)
