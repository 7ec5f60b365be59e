"""The command action and the typed topics over real DDS: a client sends goals to
~/command_action and reads the result (the decision, also on ~/decision and ~/decision_msg),
mission status as feedback, and a goal cancelled mid-mission stops the mission as "stop" does.
"""

from __future__ import annotations

import importlib.util
import threading

import pytest

pytestmark = pytest.mark.skipif(importlib.util.find_spec('ministral_interfaces') is None,
                                reason='ministral_interfaces not built (make setup builds it)')


@pytest.fixture
def flight():
    from test_node_missions import _flight

    yield from _flight({})


def _client(h):
    from ministral_interfaces.action import Command
    from rclpy.action import ActionClient

    client = ActionClient(h.client, Command, f'{h.namespace}/ministral_node/command_action')
    assert client.wait_for_server(timeout_sec=15.0)
    return client, Command


def _wait(h, future, what: str, timeout: float = 60.0):
    done = threading.Event()
    future.add_done_callback(lambda _f: done.set())
    h.wait_for(done.is_set, timeout, what)
    return future.result()


def _send(h, client, goal, feedback=None):
    handle = _wait(h, client.send_goal_async(goal, feedback_callback=feedback), 'goal response')
    assert handle.accepted
    return handle


def test_a_goal_is_decided_and_its_result_is_the_published_decision():
    from ministral_interfaces.msg import Decision
    from ros_harness import Harness

    from ministral_node.ros import typed
    from ministral_node.ros.node import MinistralNode

    h = Harness(MinistralNode)
    typed_decisions: list = []
    h.client.create_subscription(Decision, f'{h.namespace}/ministral_node/decision_msg',
                                 typed_decisions.append, 100)
    try:
        client, command = _client(h)
        handle = _send(h, client, command.Goal(text='take off to 12 m', language='en'))
        response = _wait(h, handle.get_result_async(), 'the result')
        decision = typed.decision_of(response.result.decision)
        assert (decision['action'], decision['params']) == ('takeoff', {'altitude_m': 12.0})
        assert response.result.mission.state == ''  # no executor here: no mission ran
        assert decision['command']['text'] == 'take off to 12 m'
        h.wait_for(lambda: any(d['id'] == decision['id'] for d in h.decisions), what='JSON')
        published = next(d for d in h.decisions if d['id'] == decision['id'])
        assert decision == {k: v for k, v in published.items() if k not in
                            ('confidence_detail', 'grounding')}
        h.wait_for(lambda: any(m.id == decision['id'] for m in typed_decisions),
                   what='the typed decision')
        from action_msgs.msg import GoalStatus
        assert response.status == GoalStatus.STATUS_SUCCEEDED
    finally:
        h.close()


def test_an_inactive_node_answers_a_goal_with_the_reason():
    from action_msgs.msg import GoalStatus
    from ros_harness import Harness

    from ministral_node.ros.node import MinistralNode

    h = Harness(MinistralNode, activate=False)
    try:
        client, command = _client(h)
        reasons = []
        for configure in (False, True):
            if configure:
                h.node.trigger_configure()
            handle = _send(h, client, command.Goal(text='land'))
            response = _wait(h, handle.get_result_async(), 'the result')
            assert response.status == GoalStatus.STATUS_ABORTED
            assert response.result.decision.action == 'reject'
            reasons.append(response.result.decision.params.reason)
        assert reasons == ['Command not executed: node unconfigured: not deciding',
                           'Command not executed: node inactive: not deciding']
    finally:
        h.close()


def test_a_mission_goal_sends_feedback_and_a_cancelled_one_stops_its_mission(flight):
    from action_msgs.msg import GoalStatus

    h, vehicle = flight
    h.wait_for(lambda: h.node.loop.vehicle.position_m is not None, what='a pose')
    client, command = _client(h)
    feedback: list = []
    first = _send(h, client, command.Goal(text='take off to 10 m, then fly 10 m north'),
                  lambda f: feedback.append(f.feedback.mission))
    response = _wait(h, first.get_result_async(), 'the mission result', 90)
    decision = response.result.decision
    assert (response.status, decision.action) == (GoalStatus.STATUS_SUCCEEDED, 'mission')
    assert [s.action for s in decision.steps] == ['takeoff', 'goto']
    # the end is in the result: rclpy drops feedback that arrives after it (its own channel)
    end = response.result.mission
    assert (end.state, end.decision_id, end.step_count) == ('completed', decision.id, 2)
    mine = [f for f in feedback if f.decision_id == decision.id]
    assert mine and mine == feedback  # feedback only about its own mission
    running = [f.step_action for f in mine if f.state == 'running']
    assert running.index('takeoff') < running.index('goto')

    feedback.clear()
    second = _send(h, client, command.Goal(text='fly 100 m north'),
                   lambda f: feedback.append(f.feedback.mission))
    h.wait_for(lambda: any(f.state == 'running' for f in feedback), 60, 'the second mission')
    _wait(h, second.cancel_goal_async(), 'the cancel response')
    response = _wait(h, second.get_result_async(), 'the cancelled result', 60)
    assert response.status == GoalStatus.STATUS_CANCELED
    assert response.result.decision.action == 'goto'
    end = response.result.mission
    assert end.state == 'preempted' and '(stop)' in end.reason
    assert end.decision_id == response.result.decision.id
    stop = next(d for d in h.decisions if d['command'] and d['command']['text'] == 'stop')
    assert stop['action'] == 'stop'  # what "stop" on ~/command publishes
    assert vehicle.vehicle.position[1] < 99.0


def test_typed_status_and_mission_status_are_published_beside_the_json(flight):
    from ministral_interfaces.msg import MissionStatus, NodeStatus

    h, _vehicle = flight
    base = f'{h.namespace}/ministral_node'
    statuses: list = []
    missions: list = []
    h.client.create_subscription(NodeStatus, f'{base}/status_msg', statuses.append, 50)
    h.client.create_subscription(MissionStatus, f'{base}/mission_status', missions.append, 50)
    h.wait_for(lambda: h.node.loop.vehicle.position_m is not None, what='a pose')
    decision = h.command('take off to 5 m')
    h.wait_for(lambda: any(m.decision_id == decision['id'] and m.state == 'completed'
                           for m in missions), 60, 'the typed mission status')
    h.wait_for(lambda: any(s.last_decision_id == decision['id'] for s in statuses), 30,
               'a typed heartbeat naming the decision')
    status = next(s for s in statuses if s.last_decision_id == decision['id'])
    assert (status.state, status.last_action, status.sources) == \
        ('active', 'takeoff', ['rules', 'failsafe'])
    assert {kv.key for kv in status.health} >= {'camera', 'link'}


def test_without_the_package_the_node_starts_with_json_only(monkeypatch):
    from ros_harness import Harness

    from ministral_node.ros import typed
    from ministral_node.ros.node import MinistralNode

    why = 'ministral_interfaces is not installed (test)'
    monkeypatch.setattr(typed, 'load', lambda: (None, None, why))
    h = Harness(MinistralNode)
    try:
        assert h.node.command_action is None
        assert h.command('take off to 12 m')['action'] == 'takeoff'
        names = {name for name, _types in h.node.get_topic_names_and_types()}
        assert not any(n.endswith(('/decision_msg', '/status_msg')) for n in names)
        health = h.node.loop.health.snapshot_of('typed_interfaces')
        assert (health.level, health.message) == (1, why)  # WARN in /diagnostics
    finally:
        h.close()
