"""The simulated PX4 flying the simulator's multirotor (`ministral-sim --vehicle px4|mavros`).

`SimAutopilot` (vehicle_link) is the commander: the offboard handshake, arming checks,
nav_state, land detection, the failsafes. `SimulatorBody` is the airframe it flies: the
simulator's `Multirotor`, driven through the simulator's own inputs, so the trace, the photos
and the commands the scoring reads are the same as with the json interface:

| commander | simulator |
|---|---|
| armed in OFFBOARD | `Multirotor.enter_offboard`, then each setpoint as `sim.setpoint` (ENU) |
| AUTO.LAND (NAV_LAND, offboard-loss failsafe) | `{"command": "land"}` |
| AUTO.RTL (NAV_RETURN_TO_LAUNCH) | `{"command": "return_to_home"}` |
| AUTO.LOITER, POSCTL (RC takeover, sticks centred), any other mode | `{"command": "hold"}` |
| disarmed on the ground | `Multirotor.motors_off` (landed) |
| DO_CHANGE_SPEED, IMAGE_START_CAPTURE | `set_speed`, `capture_photo` |

The scenario's autopilot faults (`rc_takeover`, `offboard_rejected`, `arming_denied`) become
the commander's `SimFaults` at the simulated time they are active.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ministral_node.vehicle_link import px4
from ministral_node.vehicle_link.frames import (
    enu_to_ned,
    heading_to_ned_yaw,
    ned_to_enu,
    ned_yaw_to_enu,
)
from ministral_node.vehicle_link.sim_autopilot import (
    NAV_LAND,
    NAV_OFFBOARD,
    NAV_RTL,
    SimAutopilot,
    SimFaults,
)

if TYPE_CHECKING:
    from ministral_node.sim.simulator import Simulator

ON_GROUND_M = 0.05


class SimulatorBody:
    """The simulator's multirotor as the commander's `Body` (see the module docstring)."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def position(self) -> tuple[float, float, float]:
        return enu_to_ned(tuple(self.sim.vehicle.position))

    def yaw(self) -> float:
        return heading_to_ned_yaw(self.sim.vehicle.heading_deg)

    def on_ground(self) -> bool:
        return self.sim.vehicle.position[2] <= ON_GROUND_M

    def remaining(self) -> float:
        return self.sim.battery_pct() / 100.0

    def fly(self, now: float, nav_state: int, armed: bool) -> None:
        vehicle = self.sim.vehicle
        if not armed:
            vehicle.motors_off(now)
        elif nav_state == NAV_OFFBOARD:
            vehicle.enter_offboard(now)
        else:
            name = {NAV_LAND: 'land', NAV_RTL: 'return_to_home'}.get(nav_state, 'hold')
            self.sim.command({'command': name})

    def follow(self, now: float, setpoint: list[float], yaw: float) -> None:
        east, north, up = ned_to_enu(tuple(setpoint))
        self.sim.setpoint(east, north, up, ned_yaw_to_enu(yaw) if math.isfinite(yaw) else None)

    def command(self, now: float, message: Mapping[str, Any]) -> None:
        number = int(message['command'])
        if number == px4.VEHICLE_CMD_DO_CHANGE_SPEED:
            self.sim.command({'command': 'set_speed', 'speed_mps': float(message['param2'])})
        elif number == px4.VEHICLE_CMD_IMAGE_START_CAPTURE:
            self.sim.command({'command': 'capture_photo'})

    def advance(self, now: float, dt: float) -> None:
        """The simulator steps the multirotor itself."""


class FlightController:
    """The commander over the simulator: `step()` after each `sim.step()`. `autopilot` speaks
    px4_msgs as dicts (`ros.autopilot_over_dds` puts it on DDS, as PX4 or behind MAVROS)."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        body = SimulatorBody(sim)
        self.autopilot = SimAutopilot(sim.t, self._faults(), body=body,
                                      airborne=not body.on_ground())
        sim.trace.autopilot_modes = self.autopilot.mode_log
        sim.trace.autopilot_commands = self.autopilot.command_log

    def step(self) -> None:
        """Move the commander on to the simulator's time, with the faults active then."""
        faults = self._faults()
        if faults != self.autopilot.faults:
            self.autopilot.faults = faults
        self.autopilot.step(self.sim.t)

    def _faults(self) -> SimFaults:
        schedule, t = self.sim.faults, self.sim.t
        takeover = schedule.first('rc_takeover')
        return SimFaults(rc_takeover_at=None if takeover is None else takeover.at,
                         offboard_rejected=schedule.active('offboard_rejected', t) is not None,
                         arming_denied=schedule.active('arming_denied', t) is not None)
