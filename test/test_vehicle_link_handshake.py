"""The offboard handshake against the simulated PX4, through PX4's messages and MAVROS:
success, each denial, takeovers, handovers, link loss; never back into offboard by itself."""

import pytest
from vehicle_link_support import PERIOD, START, STATUS_PERIOD, Flight

from ministral_node.mission.executor import Setpoint
from ministral_node.vehicle_link import offboard as link
from ministral_node.vehicle_link.sim_autopilot import NAV_LAND, NAV_OFFBOARD, NAV_POSCTL, SimFaults
from ministral_node.vehicle_link.vocabulary import HOLD, LAND, RTL

INTERFACES = ['px4', 'mavros']
ABOVE_HOME = Setpoint(0.0, 0.0, 10.0, 0.0)


def offboard_requests(flight: Flight, after: float = 0.0) -> int:
    """DO_SET_MODE offboard requests the autopilot received (after a time)."""
    return sum(1 for c in flight.sim.commands
               if c['command'] == 176 and int(c['param2']) == 6
               and c.get('timestamp', flight.now * 1e6) >= after * 1e6)


def flying(interface: str, faults: SimFaults | None = None) -> Flight:
    flight = Flight(interface, faults or SimFaults())
    flight.run(0.3)  # statuses arrive before anything is asked
    flight.engage(ABOVE_HOME, altitude=10.0)
    flight.run(10.0, until=lambda f: f.sim.position[2] < -9.9)
    assert flight.link.state == link.ACTIVE
    return flight


@pytest.mark.parametrize('interface', INTERFACES)
def test_success_streams_first_then_offboard_then_armed(interface):
    flight = flying(interface)
    assert flight.states == [link.PRIMING, link.REQUESTING, link.ARMING, link.ACTIVE]
    stamps = {e.state: e.stamp for out in flight.outputs for e in out.events}
    assert stamps[link.REQUESTING] - stamps[link.PRIMING] >= 1.0  # PX4: > 1 s of proof of life
    assert flight.sim.modes[-1] == NAV_OFFBOARD and flight.sim.armed
    assert flight.sim.position[2] == pytest.approx(-10.0, abs=0.1)  # 10 m up is NED z = -10
    assert offboard_requests(flight) == 1
    assert flight.aborts == []


def test_the_sim_refuses_offboard_before_a_second_of_proof_of_life():
    flight = Flight('px4')
    flight.run(0.3)
    request = flight.px4.outgoing(link.LinkOutput(
        link.IDLE, commands=[link.LinkCommand('set_mode', mode='offboard')]), flight.now)
    flight.sim.receive('vehicle_command', request[0][1], flight.now)
    assert flight.sim.take_acks()[-1]['result'] == 1  # temporarily rejected: no stream yet
    flight.engage(ABOVE_HOME)
    flight.run(0.5)
    flight.sim.receive('vehicle_command', request[0][1], flight.now)
    assert flight.sim.take_acks()[-1]['result'] == 1  # streaming, but for under a second
    assert flight.sim.nav_state != NAV_OFFBOARD


@pytest.mark.parametrize('interface', INTERFACES)
def test_offboard_rejected_aborts_after_the_bounded_retries(interface):
    flight = Flight(interface, SimFaults(offboard_rejected=True))
    flight.run(0.3)
    flight.engage(ABOVE_HOME)
    flight.run(8.0)
    assert flight.link.state == link.FAILED
    assert flight.aborts == [flight.link.reason]
    assert flight.link.reason.startswith('offboard not granted after 3 attempts')
    if interface == 'px4':  # PX4 says why; MAVROS's set_mode only says it sent the request
        assert flight.link.reason.endswith(': temporarily rejected')
    assert offboard_requests(flight) == 3
    assert not flight.sim.armed and not flight.outputs[-1].stream


@pytest.mark.parametrize('interface', INTERFACES)
def test_arming_denied_aborts_with_the_reason(interface):
    flight = Flight(interface, SimFaults(arming_denied=True))
    flight.run(0.3)
    flight.engage(ABOVE_HOME)
    flight.run(5.0)
    assert flight.link.state == link.FAILED
    assert flight.aborts == ['arming denied by the autopilot: denied']
    assert not flight.sim.armed and not flight.outputs[-1].stream


@pytest.mark.parametrize('interface', INTERFACES)
def test_rc_takeover_ends_the_mission_and_offboard_is_never_reentered(interface):
    flight = flying(interface)
    switch_at = flight.now + 2.0
    flight.sim.faults = SimFaults(rc_takeover_at=switch_at)
    flight.run(3.0)
    assert flight.link.state == link.TAKEN_OVER
    assert flight.aborts == ['autopilot took over (mode POSCTL)']
    taken = next(e for out in flight.outputs for e in out.events if e.state == link.TAKEN_OVER)
    assert taken.stamp - switch_at <= STATUS_PERIOD + PERIOD  # the first status that shows it
    after = [out for out in flight.outputs if out.events and out.events[0].stamp >= taken.stamp]
    assert after and not any(out.stream for out in flight.outputs[flight.outputs.index(
        after[0]):])
    # later decisions: refused until an operator resume, and nothing is asked of the autopilot
    for _ in range(3):
        refused = flight.engage(Setpoint(5.0, 0.0, 10.0, 0.0))
        assert refused.abort == 'autopilot took over (mode POSCTL): waiting for an operator resume'
        assert refused.commands == [] and not refused.stream
        flight.run(2.0)
    assert flight.hand_over(LAND).commands == []
    assert offboard_requests(flight, after=switch_at) == 0
    assert flight.sim.nav_state == NAV_POSCTL


@pytest.mark.parametrize('interface', INTERFACES)
def test_operator_resume_allows_offboard_again(interface):
    flight = flying(interface, SimFaults())
    flight.sim.faults = SimFaults(rc_takeover_at=flight.now + 0.5)
    flight.run(1.5)
    assert flight.link.state == link.TAKEN_OVER
    assert flight.resume().state == link.IDLE
    flight.engage(Setpoint(5.0, 0.0, 10.0, 0.0))
    flight.run(4.0)
    assert flight.link.state == link.ACTIVE
    assert flight.sim.nav_state == NAV_OFFBOARD


@pytest.mark.parametrize('interface', INTERFACES)
def test_offboard_loss_failsafe_is_a_takeover(interface):
    """The node's stream stops reaching PX4: after COM_OF_LOSS_T PX4 lands on its own."""
    flight = flying(interface)
    flight.stream_muted = True  # the link still streams, PX4 no longer hears it
    flight.run(2.0, until=lambda f: f.link.state == link.TAKEN_OVER)
    assert flight.sim.nav_state == NAV_LAND and flight.sim.failsafe
    assert flight.link.state == link.TAKEN_OVER
    # vehicle_status says failsafe; mavros_msgs/State has no such field
    failsafe = ', failsafe' if interface == 'px4' else ''
    assert flight.link.reason == f'autopilot took over (mode AUTO.LAND{failsafe})'


@pytest.mark.parametrize('interface', INTERFACES)
def test_a_disarm_in_the_air_is_a_takeover(interface):
    flight = flying(interface)
    flight.sim.armed = False  # kill switch
    flight.run(0.5)
    assert flight.link.state == link.TAKEN_OVER
    assert flight.link.reason == 'autopilot disarmed the vehicle (mode OFFBOARD)'
    assert flight.engage(ABOVE_HOME).commands == []


@pytest.mark.parametrize('interface', INTERFACES)
def test_land_hands_over_and_landed_disarmed_are_read_from_the_autopilot(interface):
    flight = flying(interface)
    out = flight.hand_over(LAND)
    assert out.state == link.HANDING_OVER and out.stream  # the stream runs until AUTO.LAND shows
    flight.run(1.0)
    assert flight.link.state == link.AUTOPILOT and not flight.outputs[-1].stream
    flight.run(20.0, until=lambda f: f.link.state == link.IDLE)
    assert flight.link.state == link.IDLE
    assert flight.link.reason == 'landed and disarmed (AUTO.LAND)'
    assert not flight.sim.armed and flight.sim.landed
    assert flight.aborts == []


@pytest.mark.parametrize('interface', INTERFACES)
def test_rtl_hands_over_and_comes_home(interface):
    flight = flying(interface)
    flight.link.update(flight.now, Setpoint(0.0, 20.0, 10.0, 0.0))
    flight.run(8.0)
    assert flight.sim.position[0] == pytest.approx(20.0, abs=0.2)  # 20 m north (NED x)
    flight.hand_over(RTL)
    flight.run(60.0, until=lambda f: f.link.state == link.IDLE)
    assert ('autopilot', 'autopilot flies AUTO.RTL') in flight.events
    assert flight.link.reason == 'landed and disarmed (AUTO.RTL)'
    assert flight.sim.position[:2] == pytest.approx([0.0, 0.0], abs=0.5)
    assert flight.aborts == []


@pytest.mark.parametrize('interface', INTERFACES)
def test_hold_then_a_new_mission_reenters_offboard_on_our_request(interface):
    flight = flying(interface)
    flight.hand_over(HOLD)
    flight.run(1.0)
    assert flight.link.state == link.AUTOPILOT and flight.sim.nav_state == 4
    flight.engage(Setpoint(0.0, 5.0, 10.0, 0.0))
    flight.run(3.0)
    assert flight.link.state == link.ACTIVE and flight.sim.armed
    assert flight.aborts == []


@pytest.mark.parametrize('interface', INTERFACES)
def test_autopilot_link_loss_aborts_and_stops_streaming(interface):
    flight = flying(interface)
    flight.status_muted = True
    flight.run(1.5)
    assert flight.link.state == link.FAILED
    assert flight.aborts == [
        'autopilot link lost: no autopilot status for 1 s; streaming stopped, the '
        "autopilot's offboard-loss failsafe (COM_OF_LOSS_T) follows"]
    assert not flight.outputs[-1].stream


def test_no_status_at_all_fails_the_handshake():
    flight = Flight('px4')
    flight.status_muted = True
    flight.engage(ABOVE_HOME)
    flight.run(2.0)
    assert flight.link.state == link.FAILED
    assert flight.aborts == ['autopilot link lost: no autopilot status for 1 s']
    assert offboard_requests(flight) == 0


def test_the_sim_starts_where_the_tests_assume():
    flight = Flight('px4')
    assert flight.now == START and not flight.sim.armed and flight.sim.landed
