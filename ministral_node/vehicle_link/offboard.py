"""The offboard handshake and the takeover rules, one state machine for PX4 and MAVROS.

No ROS, no threads, no clock of its own: every call takes the clock reading `now` (seconds) and
returns a `LinkOutput` of plain data (commands to send, whether and what to stream, state
changes, an abort reason). The protocol translations (`px4.py`, `mavros.py`) turn those into
messages and turn the autopilot's status and acknowledgements into `AutopilotStatus` and
`CommandAck`.

    link = OffboardLink(LinkSettings())
    out = link.engage(now, setpoint)          # a motion step wants the vehicle
    out = link.tick(now)                      # on the setpoint timer (>= 10 Hz)
    out = link.on_status(now, status)         # each autopilot status
    out = link.on_ack(now, ack)               # each acknowledgement
    out = link.hand_over(now, LAND)           # land, RTL and hold: the autopilot's own modes
    out = link.resume(now)                    # the operator's explicit resume after a takeover

The handshake: stream the setpoint and the proof of life for `priming_s`, counted from the first
setpoint sent on a tick (PX4 accepts offboard only after more than a second of it), ask for
offboard, wait for the acceptance or the mode in the status (resending every `ack_timeout_s`, at
most `max_attempts` times), then arm (same bound) and, where the autopilot needs it (ArduPilot
GUIDED), send the takeoff. Every refusal or timeout aborts with the autopilot's reason. Once
offboard was seen, a mode the link did not ask for (RC switch, ground station, failsafe) or a
disarm it did not ask for is a takeover: streaming stops and the link refuses to engage again until
`resume`. The state table is in docs/vehicle_link.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ministral_node.mission.executor import Setpoint
from ministral_node.timing import Clock
from ministral_node.vehicle_link.vocabulary import (
    ARM,
    HANDOVER_MODES,
    LAND,
    OFFBOARD,
    RTL,
    SET_MODE,
    TAKEOFF_COMMAND,
    AutopilotStatus,
    CommandAck,
    LinkCommand,
)

# States (docs/vehicle_link.md has the table).
IDLE = 'idle'  # not commanding: nothing streamed, nothing asked
PRIMING = 'priming'  # streaming setpoint + proof of life before asking for offboard
REQUESTING = 'requesting_offboard'  # offboard asked; waiting for the ack or the mode
ARMING = 'arming'  # in offboard (or accepted); arm asked; waiting for armed
TAKING_OFF = 'taking_off'  # armed; takeoff command asked (ArduPilot GUIDED); waiting for ack
ACTIVE = 'offboard'  # our setpoints fly the vehicle
HANDING_OVER = 'handing_over'  # hold/land/RTL asked; streaming until the mode shows
AUTOPILOT = 'autopilot'  # the autopilot flies its own mode we asked for; nothing streamed
TAKEN_OVER = 'taken_over'  # someone else changed mode or disarmed: latched until resume()
FAILED = 'failed'  # the handshake or a handover failed; the next engage starts again
STATES = (IDLE, PRIMING, REQUESTING, ARMING, TAKING_OFF, ACTIVE, HANDING_OVER, AUTOPILOT,
          TAKEN_OVER, FAILED)
# States in which the link streams setpoints and the proof of life.
_HANDSHAKE = frozenset({PRIMING, REQUESTING, ARMING, TAKING_OFF})
_OWNS_OFFBOARD = frozenset({ARMING, TAKING_OFF, ACTIVE})


@dataclass(frozen=True)
class LinkSettings:
    """Timing and autopilot traits of the handshake."""

    priming_s: float = 1.2  # stream this long before asking (PX4: more than 1 s)
    ack_timeout_s: float = 1.0  # resend a request not answered within this
    max_attempts: int = 3  # requests sent per step before giving up
    mode_confirm_s: float = 2.0  # an accepted mode must show in the status within this
    status_timeout_s: float = 1.0  # no autopilot status for this long: link lost
    takeoff_command: bool = False  # True for ArduPilot (GUIDED needs a takeoff command)

    def __post_init__(self) -> None:
        if self.priming_s < 1.0:
            raise ValueError('PX4 accepts offboard only after 1 s of proof of life')
        if self.max_attempts < 1 or min(self.ack_timeout_s, self.mode_confirm_s,
                                        self.status_timeout_s) <= 0:
            raise ValueError('attempts and timeouts must be positive')


@dataclass(frozen=True)
class LinkEvent:
    """One change of the link's state, with why."""

    state: str
    reason: str
    stamp: float


@dataclass
class LinkOutput:
    """What to send after one call. `stream`: publish `setpoint` (and PX4's proof of life)
    now; `abort`: the running mission must end with this reason."""

    state: str
    stream: bool = False
    setpoint: Setpoint | None = None
    commands: list[LinkCommand] = field(default_factory=list)
    events: list[LinkEvent] = field(default_factory=list)
    abort: str | None = None


class OffboardLink:
    """The handshake and takeover state machine (see the module docstring)."""

    def __init__(self, settings: LinkSettings | None = None, steady: Clock | None = None) -> None:
        """`steady`: wall time, when `now` is a simulator's time: the autopilot is silent only
        when no status came for `status_timeout_s` in both (a fast simulation with lagging DDS
        is not a lost link, nor is a slow one whose autopilot publishes in simulated time)."""
        self.settings = settings or LinkSettings()
        self._steady = steady
        self.state = IDLE
        self.reason = ''
        self.status: AutopilotStatus | None = None
        self._status_at: float | None = None
        self._heard_steady: float | None = None  # steady time of the last status (or start)
        self._setpoint: Setpoint | None = None
        self._entered = 0.0  # when the current state began
        self._primed_from: float | None = None  # the first tick that streamed while priming
        self._asked_at = 0.0  # when the last request was sent
        self._attempts = 0
        self._last_refusal = ''
        self._seen_offboard = False
        self._accepted_at: float | None = None  # offboard acceptance not yet in the status
        self._target_mode: str | None = None  # the handover mode asked or held
        self._was_streaming = False  # streaming when the handover was asked
        self._takeoff_altitude: float | None = None
        self._out: LinkOutput | None = None

    # -- inputs ------------------------------------------------------------------------------

    def engage(self, now: float, setpoint: Setpoint,
               takeoff_altitude_m: float | None = None) -> LinkOutput:
        """A motion step wants the vehicle at `setpoint`: start (or continue) the handshake."""
        out = self._begin()
        self._setpoint = setpoint
        if self.state == TAKEN_OVER:
            out.abort = self.blocked()
        elif self.state not in _HANDSHAKE | {ACTIVE}:
            self._takeoff_altitude = takeoff_altitude_m
            self._seen_offboard = False
            self._accepted_at = None
            self._target_mode = None
            self._primed_from = None
            self._go(PRIMING, 'streaming setpoints before asking for offboard', now)
        return self._finish(now)

    def update(self, now: float, setpoint: Setpoint) -> LinkOutput:
        """A new setpoint for the stream (ignored when nothing is streamed)."""
        self._begin()
        if self.state in _HANDSHAKE | {ACTIVE}:
            self._setpoint = setpoint
        return self._finish(now)

    def hand_over(self, now: float, mode: str) -> LinkOutput:
        """Give the flight to the autopilot's `mode` (hold, land or RTL)."""
        if mode not in HANDOVER_MODES:
            raise ValueError(f'{mode!r} is not a mode the link hands over to')
        out = self._begin()
        if self.state == TAKEN_OVER:
            out.abort = self.blocked()
            return self._finish(now)
        if self.state == HANDING_OVER and self._target_mode == mode \
                or self.state == AUTOPILOT and self._target_mode == mode:
            return self._finish(now)
        self._was_streaming = self.state in _HANDSHAKE | {ACTIVE, HANDING_OVER} \
            and (self.state != HANDING_OVER or self._was_streaming)
        self._target_mode = mode
        if self.status is not None and self.status.mode == mode:
            self._go(AUTOPILOT, f'autopilot already in {self.status.mode_name}', now)
        else:
            self._go(HANDING_OVER, f'asking the autopilot for {mode}', now)
            self._request(LinkCommand(SET_MODE, mode=mode), now, first=True)
        return self._finish(now)

    def blocked(self) -> str | None:
        """Why the link flies nothing new (a takeover not yet resumed), or None."""
        return f'{self.reason}: waiting for an operator resume' if self.state == TAKEN_OVER \
            else None

    def resume(self, now: float) -> LinkOutput:
        """The operator's explicit resume: after a takeover, the link may engage again."""
        self._begin()
        if self.state == TAKEN_OVER:
            self._go(IDLE, 'operator resumed after the takeover', now)
        return self._finish(now)

    def on_status(self, now: float, status: AutopilotStatus) -> LinkOutput:
        """A status from the autopilot (mode, armed, landed, connected)."""
        self._begin()
        self.status, self._status_at = status, now
        self._heard_steady = self._steady_now()
        if not status.connected:
            self._link_lost(now, 'autopilot not connected')
        elif self.state == REQUESTING and status.mode == OFFBOARD:
            self._seen_offboard = True
            self._offboard_granted(now)
        elif self.state in _OWNS_OFFBOARD:
            self._watch_offboard(now, status)
        elif self.state == HANDING_OVER:
            self._watch_handing_over(now, status)
        elif self.state == AUTOPILOT:
            self._watch_autopilot(now, status)
        return self._finish(now)

    def on_ack(self, now: float, ack: CommandAck) -> LinkOutput:
        """The autopilot's answer to a command."""
        self._begin()
        if not ack.accepted:
            self._last_refusal = ack.reason or 'refused'
        if self.state == REQUESTING and ack.kind == SET_MODE and ack.mode == OFFBOARD:
            if ack.accepted:
                self._accepted_at = now
                self._offboard_granted(now)
            elif not ack.temporary:
                self._fail(now, f'offboard refused by the autopilot: {self._last_refusal}')
        elif self.state == ARMING and ack.kind == ARM and not ack.accepted \
                and not ack.temporary:
            self._fail(now, f'arming denied by the autopilot: {self._last_refusal}')
        elif self.state == TAKING_OFF and ack.kind == TAKEOFF_COMMAND:
            if ack.accepted:
                self._go(ACTIVE, 'takeoff accepted: setpoints fly the vehicle', now)
            elif not ack.temporary:
                self._fail(now, f'takeoff refused by the autopilot: {self._last_refusal}')
        elif self.state == HANDING_OVER and ack.kind == SET_MODE \
                and ack.mode == self._target_mode and not ack.accepted and not ack.temporary:
            self._handover_failed(now, f'{self._target_mode} refused by the autopilot: '
                                       f'{self._last_refusal}')
        return self._finish(now)

    def tick(self, now: float) -> LinkOutput:
        """On the setpoint timer: timeouts, retries and the stream."""
        self._begin()
        if self.state not in (IDLE, FAILED, TAKEN_OVER) and self._status_stale(now):
            self._link_lost(now, f'no autopilot status for {self.settings.status_timeout_s:g} s')
        elif self.state == PRIMING and self._primed_from is None:
            self._primed_from = now  # this tick streams the first setpoint
        elif self.state == PRIMING and now - self._primed_from >= self.settings.priming_s:
            self._go(REQUESTING, 'asking for offboard', now)
            self._request(LinkCommand(SET_MODE, mode=OFFBOARD), now, first=True)
        elif self.state == REQUESTING:
            self._retry(now, LinkCommand(SET_MODE, mode=OFFBOARD), 'offboard')
        elif self.state == ARMING:
            self._retry(now, LinkCommand(ARM), 'arming')
        elif self.state == TAKING_OFF:
            self._retry(now, LinkCommand(TAKEOFF_COMMAND, value=self._takeoff_altitude),
                        'takeoff')
        elif self.state == HANDING_OVER:
            self._retry(now, LinkCommand(SET_MODE, mode=self._target_mode),
                        str(self._target_mode))
        if self.state in _OWNS_OFFBOARD and not self._seen_offboard \
                and self._accepted_at is not None \
                and now - self._accepted_at > self.settings.mode_confirm_s:
            shown = self.status.mode_name if self.status else 'no status'
            self._fail(now, f'offboard accepted but the autopilot still reports {shown}')
        return self._finish(now)

    # -- transitions -------------------------------------------------------------------------

    def _offboard_granted(self, now: float) -> None:
        if self.status is not None and self.status.armed:
            self._armed(now)
        else:
            self._go(ARMING, 'offboard granted; arming', now)
            self._request(LinkCommand(ARM), now, first=True)

    def _armed(self, now: float) -> None:
        landed = self.status is None or self.status.landed is not False
        if self.settings.takeoff_command and self._takeoff_altitude is not None and landed:
            self._go(TAKING_OFF, f'armed; taking off to {self._takeoff_altitude:g} m', now)
            self._request(LinkCommand(TAKEOFF_COMMAND, value=self._takeoff_altitude), now,
                          first=True)
        else:
            self._go(ACTIVE, 'armed in offboard: setpoints fly the vehicle', now)

    def _watch_offboard(self, now: float, status: AutopilotStatus) -> None:
        if status.mode == OFFBOARD:
            self._seen_offboard = True
            self._accepted_at = None
        elif self._seen_offboard:
            self._take_over(now, status)
            return
        if self.state == ARMING and status.armed:
            self._armed(now)
        elif self.state in (TAKING_OFF, ACTIVE) and not status.armed:
            self._take_over(now, status, disarmed=True)

    def _watch_handing_over(self, now: float, status: AutopilotStatus) -> None:
        if status.mode == self._target_mode:
            self._go(AUTOPILOT, f'autopilot flies {status.mode_name}', now)
        elif status.mode != OFFBOARD and status.armed and self._was_streaming \
                and self._seen_offboard:
            self._take_over(now, status)

    def _watch_autopilot(self, now: float, status: AutopilotStatus) -> None:
        if not status.armed:
            landed = 'landed and disarmed' if status.landed else 'disarmed'
            self._go(IDLE, f'{landed} ({status.mode_name})', now)
        elif status.mode != self._target_mode and not (
                self._target_mode in (LAND, RTL) and status.landed):
            self._take_over(now, status)

    def _take_over(self, now: float, status: AutopilotStatus, disarmed: bool = False) -> None:
        what = 'disarmed the vehicle' if disarmed else 'took over'
        failsafe = ', failsafe' if status.failsafe else ''
        reason = f'autopilot {what} (mode {status.mode_name}{failsafe})'
        self._go(TAKEN_OVER, reason, now)
        self._out.abort = reason

    def _fail(self, now: float, reason: str) -> None:
        self._go(FAILED, reason, now)
        self._out.abort = reason

    def _handover_failed(self, now: float, reason: str) -> None:
        """A refused hold/land/RTL: keep streaming the last setpoint if we were in offboard."""
        if self._was_streaming and self._seen_offboard:
            self._go(ACTIVE, f'{reason}; holding the last setpoint in offboard', now)
            self._out.abort = reason
        else:
            self._fail(now, reason)

    def _link_lost(self, now: float, why: str) -> None:
        if self.state in (IDLE, FAILED, TAKEN_OVER):
            return
        streaming = self.state in _HANDSHAKE | {ACTIVE} or self.state == HANDING_OVER \
            and self._was_streaming
        then = '; streaming stopped, the autopilot\'s offboard-loss failsafe (COM_OF_LOSS_T) ' \
               'follows' if streaming and self._seen_offboard else ''
        self._fail(now, f'autopilot link lost: {why}{then}')

    def _retry(self, now: float, command: LinkCommand, what: str) -> None:
        if now - self._asked_at < self.settings.ack_timeout_s:
            return
        if self._attempts >= self.settings.max_attempts:
            last = f': {self._last_refusal}' if self._last_refusal else ''
            reason = f'{what} not granted after {self._attempts} attempts{last}'
            if self.state == HANDING_OVER:
                self._handover_failed(now, reason)
            else:
                self._fail(now, reason)
            return
        self._request(command, now)

    def _request(self, command: LinkCommand, now: float, first: bool = False) -> None:
        if first:
            self._attempts = 0
            self._last_refusal = ''
        self._attempts += 1
        self._asked_at = now
        self._out.commands.append(command)

    def _status_stale(self, now: float) -> bool:
        limit = self.settings.status_timeout_s
        since = self._status_at if self._status_at is not None else self._entered
        steady = self._steady_now()
        return now - since > limit and (steady is None or self._heard_steady is None
                                        or steady - self._heard_steady > limit)

    def _steady_now(self) -> float | None:
        return None if self._steady is None else self._steady.now()

    def _go(self, state: str, reason: str, now: float) -> None:
        self.state, self.reason, self._entered = state, reason, now
        if self._status_at is None:  # never heard: silent since the link began to wait
            self._heard_steady = self._steady_now()
        self._out.events.append(LinkEvent(state, reason, now))

    def _begin(self) -> LinkOutput:
        self._out = LinkOutput(self.state)
        return self._out

    def _finish(self, now: float) -> LinkOutput:
        out, self._out = self._out, None
        out.state = self.state
        out.stream = self.streaming
        out.setpoint = self._setpoint if out.stream else None
        return out

    @property
    def streaming(self) -> bool:
        """Whether the setpoint and the proof of life are streamed now."""
        return self.state in _HANDSHAKE | {ACTIVE} or self.state == HANDING_OVER \
            and self._was_streaming
