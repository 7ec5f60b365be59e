"""The offboard state machine on its own, fed statuses and acks by hand: the transitions the
simulated PX4 does not produce (ArduPilot's takeoff step, refused handovers, an accepted mode
that never shows, a pilot switch during a handover)."""

import pytest

from ministral_node.mission.executor import Setpoint
from ministral_node.timing import FakeClock
from ministral_node.vehicle_link import offboard as ol
from ministral_node.vehicle_link.vocabulary import (
    ARM,
    HOLD,
    LAND,
    MANUAL,
    OFFBOARD,
    SET_MODE,
    TAKEOFF_COMMAND,
    AutopilotStatus,
    CommandAck,
    LinkCommand,
)

SP = Setpoint(0.0, 0.0, 10.0, 0.0)
NAMES = {OFFBOARD: 'GUIDED', HOLD: 'BRAKE', LAND: 'LAND', MANUAL: 'LOITER'}


def status(mode, armed=False, landed=True):
    return AutopilotStatus(mode=mode, mode_name=NAMES[mode], armed=armed, landed=landed)


class Driver:
    def __init__(self, **settings):
        self.link = ol.OffboardLink(ol.LinkSettings(**settings))
        self.now = 0.0
        self.sent: list[LinkCommand] = []
        self.last = None
        self.aborts: list[str] = []

    def do(self, out):
        self.sent += out.commands
        self.aborts += [out.abort] if out.abort else []
        self.last = out
        return out

    def at(self, dt, *statuses):
        self.now += dt
        for s in statuses:
            self.do(self.link.on_status(self.now, s))
        return self.do(self.link.tick(self.now))

    def ack(self, kind, accepted=True, mode=None, reason='', temporary=False):
        return self.do(self.link.on_ack(self.now, CommandAck(kind, accepted, reason, temporary,
                                                             mode)))

    def to_active(self, mode=MANUAL):
        self.do(self.link.on_status(self.now, status(mode)))
        self.do(self.link.engage(self.now, SP, takeoff_altitude_m=10.0))
        for _ in range(13):
            self.at(0.1, status(mode))
        assert self.link.state == ol.REQUESTING
        self.at(0.1, status(OFFBOARD))
        assert self.sent[-1] == LinkCommand(ARM)
        self.at(0.1, status(OFFBOARD, armed=True))


def test_ardupilot_guided_sends_the_takeoff_after_arming():
    d = Driver(takeoff_command=True)
    d.to_active()
    assert d.link.state == ol.TAKING_OFF
    assert d.sent[-1] == LinkCommand(TAKEOFF_COMMAND, value=10.0)
    d.ack(TAKEOFF_COMMAND)
    assert d.link.state == ol.ACTIVE and d.last.stream


def test_a_refused_takeoff_aborts():
    d = Driver(takeoff_command=True)
    d.to_active()
    d.ack(TAKEOFF_COMMAND, accepted=False, reason='denied')
    assert d.link.state == ol.FAILED
    assert d.last.abort == 'takeoff refused by the autopilot: denied'


def test_px4_climbs_by_the_setpoint_without_a_takeoff_command():
    d = Driver()
    d.to_active()
    assert d.link.state == ol.ACTIVE
    assert all(c.kind != TAKEOFF_COMMAND for c in d.sent)


def test_a_refused_land_in_offboard_keeps_holding_the_last_setpoint():
    d = Driver()
    d.to_active()
    out = d.do(d.link.hand_over(d.now, LAND))
    assert out.commands == [LinkCommand(SET_MODE, mode=LAND)] and out.stream
    d.ack(SET_MODE, accepted=False, mode=LAND, reason='denied')
    assert d.link.state == ol.ACTIVE and d.last.stream and d.last.setpoint == SP
    assert d.last.abort == 'land refused by the autopilot: denied'


def test_an_unanswered_handover_is_retried_then_given_up():
    d = Driver()
    d.to_active()
    d.do(d.link.hand_over(d.now, HOLD))
    for _ in range(40):
        d.at(0.1, status(OFFBOARD, armed=True, landed=False))
    assert d.sent.count(LinkCommand(SET_MODE, mode=HOLD)) == 3
    assert d.link.state == ol.ACTIVE
    assert d.link.reason.startswith('hold not granted after 3 attempts')


def test_an_accepted_offboard_that_never_shows_fails():
    d = Driver()
    d.do(d.link.on_status(d.now, status(MANUAL)))
    d.do(d.link.engage(d.now, SP))
    for _ in range(13):
        d.at(0.1, status(MANUAL))
    d.ack(SET_MODE, mode=OFFBOARD)
    assert d.link.state == ol.ARMING
    for _ in range(25):
        d.at(0.1, status(MANUAL, armed=True))
    assert d.link.state == ol.FAILED
    assert d.link.reason == 'offboard accepted but the autopilot still reports LOITER'


def test_a_pilot_switch_during_a_handover_is_a_takeover():
    d = Driver()
    d.to_active()
    d.do(d.link.hand_over(d.now, LAND))
    d.at(0.1, status(MANUAL, armed=True, landed=False))
    assert d.link.state == ol.TAKEN_OVER
    assert d.aborts == ['autopilot took over (mode LOITER)']  # once, when it happened


def test_a_land_asked_during_the_handshake_is_no_takeover():
    d = Driver()
    d.do(d.link.on_status(d.now, status(MANUAL, armed=True, landed=False)))
    d.do(d.link.engage(d.now, SP))
    d.at(0.5, status(MANUAL, armed=True, landed=False))
    out = d.do(d.link.hand_over(d.now, LAND))
    assert out.commands == [LinkCommand(SET_MODE, mode=LAND)]
    d.at(0.1, status(MANUAL, armed=True, landed=False))  # not switched yet: still the pilot's
    assert d.link.state == ol.HANDING_OVER and d.aborts == []
    d.at(0.1, status(LAND, armed=True, landed=False))
    assert d.link.state == ol.AUTOPILOT


def test_a_pilot_switch_after_the_handover_is_a_takeover_but_landing_is_not():
    d = Driver()
    d.to_active()
    d.do(d.link.hand_over(d.now, HOLD))
    d.at(0.1, status(HOLD, armed=True, landed=False))
    assert d.link.state == ol.AUTOPILOT and not d.last.stream
    d.at(0.1, status(MANUAL, armed=True, landed=False))
    assert d.link.state == ol.TAKEN_OVER


def test_streaming_only_in_the_handshake_and_offboard():
    d = Driver()
    assert not d.at(0.1, status(MANUAL)).stream
    d.to_active()
    assert d.last.stream and d.last.setpoint == SP
    d.do(d.link.update(d.now, Setpoint(1.0, 2.0, 3.0, 0.0)))
    assert d.last.setpoint == Setpoint(1.0, 2.0, 3.0, 0.0)


def test_settings_are_checked():
    with pytest.raises(ValueError, match='1 s'):
        ol.LinkSettings(priming_s=0.5)
    with pytest.raises(ValueError):
        ol.LinkSettings(max_attempts=0)
    with pytest.raises(ValueError):
        ol.OffboardLink().hand_over(0.0, OFFBOARD)


def test_priming_counts_from_the_first_setpoint_streamed_not_from_the_engage():
    d = Driver()
    d.do(d.link.on_status(d.now, status(MANUAL)))
    d.do(d.link.engage(d.now, SP, takeoff_altitude_m=10.0))
    assert d.at(0.5, status(MANUAL)).stream  # a late first tick: the stream starts here
    d.at(1.1, status(MANUAL))
    assert d.link.state == ol.PRIMING and d.sent == []  # 1.1 s streamed, 1.6 s since engage
    d.at(0.1, status(MANUAL))
    assert d.link.state == ol.REQUESTING and d.sent == [LinkCommand(SET_MODE, mode=OFFBOARD)]


@pytest.mark.parametrize('sim_s, wall_s, lost', [
    (3.0, 0.5, False),  # a fast simulation, DDS lagging in wall time: not lost
    (0.5, 3.0, False),  # a slow simulation, its autopilot publishing in simulated time
    (1.5, 1.5, True),   # silent in both: lost
])
def test_the_autopilot_is_silent_only_when_silent_in_simulated_and_wall_time(sim_s, wall_s, lost):
    wall = FakeClock()
    link = ol.OffboardLink(ol.LinkSettings(), steady=wall)
    link.on_status(0.0, status(MANUAL))
    link.engage(0.0, SP, takeoff_altitude_m=10.0)
    wall.advance(wall_s)
    out = link.tick(sim_s)
    assert (out.abort == 'autopilot link lost: no autopilot status for 1 s') is lost
