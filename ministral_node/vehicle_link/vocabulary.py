"""The autopilot-neutral words the link and its protocol translations share.

Modes are named by what they do, not by an autopilot's spelling: `px4.py` and `mavros.py` map
them to nav_state numbers and to PX4 or ArduPilot mode names.
"""

from __future__ import annotations

from dataclasses import dataclass

# What a mode does (the link's vocabulary).
OFFBOARD = 'offboard'  # PX4 OFFBOARD, ArduPilot GUIDED: the node's setpoints fly the vehicle
HOLD = 'hold'  # PX4 AUTO.LOITER, ArduPilot BRAKE
LAND = 'land'  # PX4 AUTO.LAND, ArduPilot LAND
RTL = 'rtl'  # PX4 AUTO.RTL, ArduPilot RTL
TAKEOFF = 'takeoff'  # PX4 AUTO.TAKEOFF
MISSION = 'mission'  # PX4 AUTO.MISSION, ArduPilot AUTO
MANUAL = 'manual'  # any pilot-flown mode (manual, stabilized, altitude, position, acro)
OTHER = 'other'  # anything else (termination, orbit, external modes, unknown)
MODES = (OFFBOARD, HOLD, LAND, RTL, TAKEOFF, MISSION, MANUAL, OTHER)
# Modes the node hands the flight to (the autopilot flies; no setpoints).
HANDOVER_MODES = frozenset({HOLD, LAND, RTL})

# Command kinds the link asks an autopilot for.
SET_MODE, ARM, DISARM = 'set_mode', 'arm', 'disarm'
TAKEOFF_COMMAND, SET_SPEED, CAPTURE_PHOTO = 'takeoff', 'set_speed', 'capture_photo'
COMMAND_KINDS = (SET_MODE, ARM, DISARM, TAKEOFF_COMMAND, SET_SPEED, CAPTURE_PHOTO)


@dataclass(frozen=True)
class LinkCommand:
    """One command for the autopilot, autopilot-neutral.

    `mode` is set for SET_MODE; `value` is the altitude (m) for a takeoff, the speed (m/s) for
    SET_SPEED, the photo index for CAPTURE_PHOTO.
    """

    kind: str
    mode: str | None = None
    value: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in COMMAND_KINDS:
            raise ValueError(f'unknown link command {self.kind!r}')
        if (self.kind == SET_MODE) != (self.mode is not None):
            raise ValueError('a mode goes with set_mode, and only there')
        if self.mode is not None and self.mode not in MODES:
            raise ValueError(f'unknown mode {self.mode!r}')


@dataclass(frozen=True)
class AutopilotStatus:
    """What the autopilot reports, read from PX4 `vehicle_status` + `vehicle_land_detected`
    or MAVROS `state` + `extended_state`. None means not reported."""

    mode: str  # one of MODES
    mode_name: str  # the autopilot's own name for it (AUTO.RTL, POSCTL, GUIDED, ...)
    armed: bool
    connected: bool = True
    landed: bool | None = None
    failsafe: bool = False


@dataclass(frozen=True)
class CommandAck:
    """The autopilot's answer to one command (PX4 `vehicle_command_ack`, a MAVROS response)."""

    kind: str  # the LinkCommand kind it answers
    accepted: bool
    reason: str = ''  # the autopilot's words for a refusal ('temporarily rejected', ...)
    temporary: bool = False  # a refusal worth retrying
    mode: str | None = None  # for SET_MODE: which mode it answers
