"""The node flies through PX4 (uXRCE-DDS topics) and MAVROS (topics and services) over real DDS:
a simulated PX4 (`SimAutopilot`) stands behind each, in simulated time (test/autopilot_fakes.py).

Needs px4_msgs and mavros_msgs (`make setup` builds the subsets in interfaces/ into the venv)."""

from __future__ import annotations

import importlib.util
import json

import pytest
from rclpy.lifecycle import TransitionCallbackReturn
from ros_harness import Harness
from std_msgs.msg import String

from ministral_node.ros.node import EXIT_MISSING_PACKAGE, MinistralNode
from ministral_node.vehicle_link import config, px4
from ministral_node.vehicle_link.sim_autopilot import NAV_LOITER, NAV_OFFBOARD, NAV_POSCTL

MISSING = [name for name in ('px4_msgs', 'mavros_msgs')
           if importlib.util.find_spec(name) is None]
needs_messages = pytest.mark.skipif(
    bool(MISSING), reason=f'{", ".join(MISSING)} not importable: run `make setup` (it builds '
                          'interfaces/ into the venv) or source a ROS workspace that has them')

OFFBOARD_REQUEST = (px4.VEHICLE_CMD_DO_SET_MODE, px4.MAIN_MODE_OFFBOARD)


def _fly(interface: str):
    from autopilot_fakes import FakeMavros, FakePx4

    h = Harness(MinistralNode,
                {'execute_missions': True, 'use_sim_time': True,
                 'vehicle_interface': interface}, activate=False)
    fake = (FakePx4 if interface == 'px4' else FakeMavros)(h.client)
    missions: list[dict] = []
    h.client.create_subscription(String, f'{h.namespace}/ministral_node/mission',
                                 lambda m: missions.append(json.loads(m.data)), 100)
    fake.thread.start()
    h.node.trigger_configure()
    h.node.trigger_activate()
    h.wait_for(lambda: h.command_pub.get_subscription_count() > 0, what='command subscription')
    h.wait_for(lambda: h.node.loop.vehicle.in_air is False, what='landed from the autopilot')
    return h, fake, missions


@pytest.fixture(params=['px4', 'mavros'])
def flight(request):
    h, fake, missions = _fly(request.param)
    yield request.param, h, fake, missions
    fake.close()
    h.close()


def _mode_requests(interface: str, fake) -> list[tuple]:
    """The mode and arming requests the fake received, in order, as comparable tuples."""
    if interface == 'px4':
        return [(int(m['command']), int(m['param2']) if m['command'] == 176
                 else round(m['param1'])) for _, m in fake.roles('vehicle_command')]
    calls = [(t, ('set_mode', m['custom_mode'])) for t, m in fake.roles('set_mode')]
    calls += [(t, ('arming', m['value'])) for t, m in fake.roles('arming')]
    return [c for _, c in sorted(calls, key=lambda pair: pair[0])]


def _without_resends(requests: list[tuple]) -> list[tuple]:
    """The requests with each run of identical ones (a resend after no answer) counted once."""
    return [r for i, r in enumerate(requests) if i == 0 or requests[i - 1] != r]


def _offboard_asked(interface: str) -> tuple:
    return OFFBOARD_REQUEST if interface == 'px4' else ('set_mode', 'OFFBOARD')


def _armed_asked(interface: str) -> tuple:
    return (px4.VEHICLE_CMD_COMPONENT_ARM_DISARM, 1) if interface == 'px4' \
        else ('arming', True)


def _stream(interface: str, fake) -> list[float]:
    """Simulated times of the proof of life (PX4) or the setpoints (MAVROS) received."""
    return [t for t, _ in fake.roles('offboard_control_mode' if interface == 'px4'
                                      else 'setpoint')]


def _request_times(interface: str, fake) -> list[float]:
    if interface == 'px4':
        return [t for t, m in fake.roles('vehicle_command') if m['command'] == 176]
    return [t for t, _ in fake.roles('set_mode')]


@needs_messages
def test_takeoff_runs_the_handshake_then_climbs(flight):
    interface, h, fake, missions = flight
    decision = h.command('take off to 10 m')
    assert decision['action'] == 'takeoff'
    h.wait_for(lambda: any(m['state'] == 'completed' for m in missions), 60,
               'the takeoff completed')
    # offboard first, then arm (a request resent after `ack_timeout_s` on a busy machine is
    # one ask): streamed for at least a second before offboard was asked
    requests = _without_resends(_mode_requests(interface, fake))
    assert requests[:2] == [_offboard_asked(interface), _armed_asked(interface)]
    first_stream, first_request = _stream(interface, fake)[0], _request_times(interface, fake)[0]
    assert first_request - first_stream >= 1.0
    assert fake.autopilot.modes[:2] == [NAV_LOITER, NAV_OFFBOARD]
    assert fake.autopilot.armed and fake.altitude_m >= 9.0
    assert h.node.loop.vehicle.in_air is True
    assert h.node.loop.vehicle.position_m[2] >= 9.0  # the pose came from the autopilot (ENU)
    # the takeoff done, the executor holds: handed to the autopilot's hold mode
    h.wait_for(lambda: fake.autopilot.nav_state == NAV_LOITER, 30, 'AUTO.LOITER')
    h.wait_for(lambda: h.node.vehicle_link.link.state == 'autopilot', 10, 'link: autopilot')


@needs_messages
def test_rc_takeover_aborts_stops_streaming_and_never_reenters(flight):
    interface, h, fake, missions = flight
    fake.takeover_at_altitude_m = 4.0
    h.command('take off to 20 m')
    h.wait_for(lambda: any(m['state'] == 'aborted' for m in missions), 60, 'the abort')
    aborted = next(m for m in missions if m['state'] == 'aborted')
    assert aborted['reason'] == 'autopilot took over (mode POSCTL)'
    assert fake.autopilot.nav_state == NAV_POSCTL
    assert h.node.vehicle_link.link.state == 'taken_over'
    # the stream stops: nothing more arrives over the next simulated second and a half
    streamed = len(_stream(interface, fake))
    later = fake.now + 1.5
    h.wait_for(lambda: fake.now >= later, 30, 'simulated time to pass')
    assert len(_stream(interface, fake)) <= streamed + 1  # at most one already in flight
    # a new command does not re-enter offboard: it is refused until an operator resume
    asked = len([r for r in _mode_requests(interface, fake) if r == _offboard_asked(interface)])
    refused = h.command('take off to 25 m')
    assert 'vehicle link: autopilot took over (mode POSCTL): waiting for an operator resume' \
        in refused['notes']  # said in the decision itself, before the mission is refused

    def second_aborted() -> list[dict]:
        return [m for m in missions if m['state'] == 'aborted'
                and m['mission_id'] != aborted['mission_id']]
    h.wait_for(second_aborted, 30, 'the second mission refused')
    second = second_aborted()[0]
    assert second['reason'] == ('autopilot took over (mode POSCTL): waiting for an operator '
                                'resume')
    assert len([r for r in _mode_requests(interface, fake)
                if r == _offboard_asked(interface)]) == asked
    assert fake.autopilot.nav_state == NAV_POSCTL
    # refused at once by the link: its own pending status went out first, nothing after aborted
    later = fake.now + 1.0
    h.wait_for(lambda: fake.now >= later, 30, 'simulated time to pass')
    states = [m['state'] for m in missions if m['mission_id'] == second['mission_id']]
    assert set(states[states.index('aborted'):]) == {'aborted'}, states


def test_a_missing_message_package_is_one_clear_configure_error(monkeypatch):
    # as on a machine whose workspace lacks px4_msgs: configure fails with the sentence
    monkeypatch.setitem(config.MESSAGE_PACKAGES, 'px4',
                        ('px4_msgs_not_built', 'build PX4/px4_msgs in your workspace'))
    h = Harness(MinistralNode, {'execute_missions': True, 'vehicle_interface': 'px4'},
                activate=False)
    try:
        errors = []
        monkeypatch.setattr(h.node.get_logger(), 'error', errors.append, raising=False)
        assert h.node.trigger_configure() == TransitionCallbackReturn.FAILURE
        assert errors == ['configure failed: vehicle_interface px4 needs the px4_msgs_not_built '
                          'package, which is not installed: build PX4/px4_msgs in your '
                          'workspace']
        assert h.node.vehicle_link is None and h.node.loop is None
        assert h.node.done.result() == EXIT_MISSING_PACKAGE  # ministral-node exits with 3
    finally:
        h.close()


@needs_messages
def test_only_an_operator_resume_lets_the_link_reenter_offboard(flight):
    from std_srvs.srv import Trigger

    interface, h, fake, missions = flight
    resume = h.client.create_client(Trigger, f'{h.namespace}/ministral_node/resume')
    assert resume.wait_for_service(timeout_sec=10)
    answer = _call(h, resume)
    assert (answer.success, answer.message) == (False, 'nothing to resume: the link is idle')
    fake.takeover_at_altitude_m = 4.0
    h.command('take off to 20 m')
    h.wait_for(lambda: h.node.vehicle_link.link.state == 'taken_over', 60, 'the takeover')
    asked = len([r for r in _mode_requests(interface, fake) if r == _offboard_asked(interface)])
    answer = _call(h, resume)
    assert (answer.success, answer.message) == (
        True, 'resumed after: autopilot took over (mode POSCTL)')
    assert h.node.vehicle_link.link.state == 'idle'
    h.command('take off to 25 m')  # the operator flies on: offboard again, on our request
    h.wait_for(lambda: fake.autopilot.nav_state == NAV_OFFBOARD and fake.altitude_m >= 20.0,
               60, 'offboard again and climbing')
    assert len([r for r in _mode_requests(interface, fake)
                if r == _offboard_asked(interface)]) > asked


def _call(h, client):
    from std_srvs.srv import Trigger

    future = client.call_async(Trigger.Request())
    h.wait_for(future.done, 10, 'the service answer')
    return future.result()


@needs_messages
def test_an_operator_says_resume_and_the_node_holds_in_the_autopilots_hold_mode(flight):
    interface, h, fake, missions = flight
    fake.takeover_at_altitude_m = 4.0
    h.command('take off to 20 m')
    h.wait_for(lambda: h.node.vehicle_link.link.state == 'taken_over', 60, 'the takeover')
    asked = len([r for r in _mode_requests(interface, fake) if r == _offboard_asked(interface)])
    decision = h.command('reprends la main')  # a reflex: no model, no queue
    assert (decision['action'], decision['params']) == ('hold', {'duration_s': None})
    assert 'vehicle link: resumed after: autopilot took over (mode POSCTL)' in decision['notes']
    # the control is back with the node, holding where it is: the autopilot's hold, not offboard
    h.wait_for(lambda: fake.autopilot.nav_state == NAV_LOITER, 30, 'AUTO.LOITER')
    h.wait_for(lambda: h.node.vehicle_link.link.state == 'autopilot', 10, 'link: autopilot')
    assert len([r for r in _mode_requests(interface, fake)
                if r == _offboard_asked(interface)]) == asked
