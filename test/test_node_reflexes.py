"""Reflexes over DDS: "STOP!" sent while a slow model decides is published first, the slow
decision is answered as preempted, and the executor holds, before the model would have ended.
Order and cancellation are asserted; how fast is measured by `ministral-bench --reflex`."""

from __future__ import annotations

import json
import threading
import time

from geometry_msgs.msg import PoseStamped
from ros_harness import Harness
from std_msgs.msg import String

from ministral_node.ros.node import MinistralNode

MODEL_S = 5.0  # what the slow model would take for one decision


def test_a_stop_preempts_a_slow_decision_and_the_executor_holds():
    h = Harness(MinistralNode, {'execute_missions': True})
    hovering = threading.Event()
    try:
        base = f'{h.namespace}/ministral_node'
        missions, setpoints = [], []
        h.client.create_subscription(String, f'{base}/mission',
                                     lambda m: missions.append(json.loads(m.data)), 100)
        h.client.create_subscription(PoseStamped, f'{h.namespace}/setpoint_position',
                                     lambda m: setpoints.append(m.pose.position), 100)
        pose_pub = h.client.create_publisher(PoseStamped, f'{h.namespace}/pose', 10)

        def hover() -> None:  # the vehicle at 20 m, as MAVROS reports it
            while not hovering.is_set():
                pose = PoseStamped()
                pose.header.frame_id = 'map'
                pose.pose.position.z = 20.0
                pose.pose.orientation.w = 1.0
                pose_pub.publish(pose)
                time.sleep(0.05)

        threading.Thread(target=hover, daemon=True).start()
        h.wait_for(lambda: h.node.loop.vehicle.position_m == (0.0, 0.0, 20.0), what='the pose')
        pipeline = h.node.loop.pipeline
        decide = pipeline.decide

        def slow_model(text, *, cancel=None, **kwargs):
            end = time.monotonic() + MODEL_S  # checks its cancellation as a decode loop does
            while time.monotonic() < end and not (cancel is not None and cancel.cancelled):
                time.sleep(0.01)
            return decide(text, cancel=cancel, **kwargs)

        pipeline.decide = slow_model
        seen = len(h.decisions)
        h.command_pub.publish(String(data='fly 50 m north'))
        h.wait_for(lambda: h.node.status()['busy'], what='the slow decision to start')
        time.sleep(0.5)
        sent = time.monotonic()
        h.command_pub.publish(String(data='STOP!'))
        h.wait_for(lambda: len(h.decisions) >= seen + 2, what='both answers')
        assert time.monotonic() - sent < MODEL_S  # the model was not waited for
        stop, preempted = h.decisions[seen:seen + 2]
        assert stop['command']['text'] == 'STOP!' and stop['action'] == 'stop'
        assert stop['attempts'][0]['source'] == 'reflex'
        assert "'fly 50 m north'" in stop['attempts'][0]['detail']
        assert preempted['command']['text'] == 'fly 50 m north'
        assert preempted['action'] == 'reject'
        assert preempted['refusal']['kind'] == 'preempted' and preempted['attempts'] == []
        assert 'preempted by the reflex stop' in preempted['refusal']['reason']
        h.wait_for(lambda: any(m['decision_id'] == stop['id'] and m['state'] == 'running'
                               for m in missions), what='the executor holding')
        h.wait_for(lambda: setpoints, what='a hold setpoint')
        assert (setpoints[0].x, setpoints[0].y, setpoints[0].z) == (0.0, 0.0, 20.0)
        assert not any(m['decision_id'] == preempted['id'] for m in missions)
    finally:
        hovering.set()
        h.close()
