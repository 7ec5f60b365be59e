"""Faults a scenario injects at simulated times.

- `link_loss`: the ground station's heartbeat stops (for `duration_s`, or for good).
- `camera_freeze`: the camera repeats its last frame; `camera_black`: black frames;
  `camera_stop`: no frames.
- `remote_down`: the remote model endpoint stops answering (the ROS side points the node's
  `remote_url` at a closed port).
- `battery_low`: the battery drops to `value` percent at `at`.
- `pose_lost`: the vehicle's pose is no longer published (the autopilot still flies).

Autopilot faults, injected into the simulated PX4 (`sim.flight_controller`), so only with
`--vehicle px4` or `mavros` (a scenario that has one lists `interfaces`):
- `rc_takeover`: the pilot flips the RC mode switch to POSCTL at `at`.
- `offboard_rejected`: every offboard request is refused (temporarily rejected) while active.
- `arming_denied`: a pre-flight check fails: every arm request is denied while active.
"""

from __future__ import annotations

from dataclasses import dataclass

AUTOPILOT_KINDS = ('rc_takeover', 'offboard_rejected', 'arming_denied')
KINDS = ('link_loss', 'camera_freeze', 'camera_black', 'camera_stop', 'remote_down',
         'battery_low', 'pose_lost', *AUTOPILOT_KINDS)


@dataclass(frozen=True)
class Fault:
    """One fault: kind, start (simulated seconds), how long (None: to the end), value."""

    kind: str
    at: float
    duration_s: float | None = None
    value: float | None = None

    @classmethod
    def from_dict(cls, data: dict) -> Fault:
        kind = data.get('kind')
        if kind not in KINDS:
            raise ValueError(f'fault kind {kind!r} is not one of {", ".join(KINDS)}')
        if kind == 'battery_low' and data.get('value') is None:
            raise ValueError('fault battery_low needs value (percent)')
        duration = data.get('duration_s')
        return cls(kind, float(data.get('at', 0.0)),
                   None if duration is None else float(duration),
                   None if data.get('value') is None else float(data['value']))

    def active(self, t: float) -> bool:
        """Whether the fault is on at time `t`."""
        return t >= self.at and (self.duration_s is None or t < self.at + self.duration_s)


class FaultSchedule:
    """The scenario's faults, asked by kind and time."""

    def __init__(self, faults: tuple[Fault, ...] | list[Fault] = ()) -> None:
        self.faults = tuple(faults)

    def active(self, kind: str, t: float) -> Fault | None:
        """The fault of this kind that is on at `t`, if any."""
        for fault in self.faults:
            if fault.kind == kind and fault.active(t):
                return fault
        return None

    def first(self, kind: str) -> Fault | None:
        """The earliest fault of this kind."""
        found = [f for f in self.faults if f.kind == kind]
        return min(found, key=lambda f: f.at) if found else None
