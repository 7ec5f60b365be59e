"""Missions over DDS: a command on ~/command becomes executed steps on a simulated vehicle that
obeys setpoint_position and ~/vehicle_command, in simulated time, in five languages."""

from __future__ import annotations

import json
import math
import threading
import time
from types import SimpleNamespace

import pytest
from geometry_msgs.msg import PoseStamped
from ros_harness import Harness
from rosgraph_msgs.msg import Clock as ClockMsg
from std_msgs.msg import String

from ministral_node.mission.executor import ExecutorOutput, Setpoint
from ministral_node.mission.simple_vehicle import SimVehicle
from ministral_node.ros.node import MinistralNode

STEP_S = 0.05  # simulated seconds per vehicle step, at least
MAX_STEP_S = 0.25  # and at most (the vehicle is kinematic: any step is stable)
SPEEDUP = 5.0  # simulated time runs this much faster than the wall clock


class FlyingVehicle:
    """A SimVehicle behind DDS: takes setpoints and vehicle commands, publishes pose and
    /clock (the simulation's time) from its own thread."""

    def __init__(self, h: Harness) -> None:
        self.h = h
        self.vehicle = SimVehicle()
        self.now = 100.0
        self.lock = threading.Lock()
        self.commands: list[dict] = []
        self.setpoints: list[tuple[float, float, float]] = []  # (stamp, x, y)
        self.missions: list[dict] = []
        base = f'{h.namespace}/ministral_node'
        client = h.client
        self.clock_pub = client.create_publisher(ClockMsg, '/clock', 10)
        self.pose_pub = client.create_publisher(PoseStamped, f'{h.namespace}/pose', 10)
        client.create_subscription(PoseStamped, f'{h.namespace}/setpoint_position',
                                   self._on_setpoint, 10)
        client.create_subscription(String, f'{base}/vehicle_command', self._on_command, 100)
        client.create_subscription(String, f'{base}/mission',
                                   lambda m: self.missions.append(json.loads(m.data)), 100)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _on_setpoint(self, msg: PoseStamped) -> None:
        p, q = msg.pose.position, msg.pose.orientation
        stamp = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
        self.setpoints.append((stamp, p.x, p.y))
        with self.lock:
            self.vehicle.apply(ExecutorOutput(setpoint=Setpoint(
                p.x, p.y, p.z, 2.0 * math.atan2(q.z, q.w))))

    def _on_command(self, msg: String) -> None:
        command = json.loads(msg.data)
        self.commands.append(command)
        with self.lock:
            self.vehicle.apply(ExecutorOutput(commands=[command]))

    def _run(self) -> None:
        # Simulated time follows the wall clock (x SPEEDUP), not the loop count: with the
        # node's executor threads holding the GIL a loop turn took ~130 ms instead of 10,
        # and a fixed step per turn ran the simulation at 0.4x real time, not 5x.
        last = time.monotonic()
        while not self.stop.is_set():
            now = time.monotonic()
            dt = min(max((now - last) * SPEEDUP, STEP_S), MAX_STEP_S)
            last = now
            with self.lock:
                self.vehicle.step(dt)
                self.now += dt
                x, y, z = self.vehicle.position
            clock = ClockMsg()
            clock.clock.sec, clock.clock.nanosec = int(self.now), int(self.now % 1 * 1e9)
            self.clock_pub.publish(clock)
            pose = PoseStamped()
            pose.header.stamp = clock.clock
            pose.pose.position.x, pose.pose.position.y, pose.pose.position.z = x, y, z
            pose.pose.orientation.w = math.cos(math.radians(45.0))  # facing north
            pose.pose.orientation.z = math.sin(math.radians(45.0))
            self.pose_pub.publish(pose)
            self.stop.wait(STEP_S / SPEEDUP)


@pytest.fixture
def flight():
    yield from _flight({})


@pytest.fixture
def model_flight():
    # the model's own plan is under test: no rule-parser fast path for complete readings
    yield from _flight({'decision_sources': ['onboard', 'rules'], 'rules_fast_path': False})


def _flight(params: dict):
    h = Harness(MinistralNode, {'execute_missions': True, 'use_sim_time': True, **params},
                activate=False)
    vehicle = FlyingVehicle(h)
    vehicle.thread.start()
    h.node.trigger_configure()
    h.node.trigger_activate()
    h.wait_for(lambda: h.command_pub.get_subscription_count() > 0, what='command subscription')
    yield h, vehicle
    vehicle.stop.set()
    vehicle.thread.join()
    h.close()


@pytest.mark.parametrize('command', [
    'take off to 10 m, then fly 20 m north, then land',
    'décolle à 10 m, puis vole 20 m vers le nord, puis atterris',
    'starte auf 10 m, dann flieg 20 m nach Norden, dann lande',
    'despega a 10 m, luego vuela 20 m al norte, luego aterriza',
    'decolla a 10 m, poi vola 20 m verso nord, poi atterra',
], ids=['en', 'fr', 'de', 'es', 'it'])
def test_a_spoken_mission_is_flown_step_by_step(flight, command):
    _fly_three_steps(*flight, command)


@pytest.mark.slow
def test_the_demo_model_plans_a_mission_that_is_flown(model_flight):
    h, vehicle = model_flight
    h.wait_for(lambda: h.node.loop.vehicle.position_m is not None, what='a pose')
    # (the shipped model is surer of 20 m than of 10 m here: 0.68 against 0.42, docs/contract.md
    # "Missions (contract 1.1.0)"; below min_confidence the rule parser would plan it)
    decision = h.command('décolle à 20 m, puis rentre à la base')
    # the model's own plan, verified (the rule parser reads the same): not the rule reading
    assert (decision['source'], decision['action']) == ('onboard', 'mission')
    assert decision['model']['name'] == 'ministral-3-drone-demo'
    assert [(s['action'], s['params']) for s in decision['params']['steps']] == [
        ('takeoff', {'altitude_m': 20}), ('return_to_home', {})]
    h.wait_for(lambda: any(m['state'] == 'completed' and m['decision_id'] == decision['id']
                           for m in vehicle.missions), 60, 'the mission completed')
    assert [c['command'] for c in vehicle.commands] == ['takeoff', 'return_to_home']
    h.wait_for(lambda: not vehicle.vehicle.in_air, 30, 'landed at home')
    assert math.hypot(*vehicle.vehicle.position[:2]) <= 0.5


def _fly_three_steps(h: Harness, vehicle: FlyingVehicle, command: str) -> dict:
    """Say a takeoff - 20 m north - land mission; check it is flown; return the decision."""
    h.wait_for(lambda: h.node.loop.vehicle.position_m is not None, what='a pose')
    decision = h.command(command)
    assert decision['action'] == 'mission' and decision['safety']['status'] == 'passed'
    assert [s['action'] for s in decision['params']['steps']] == ['takeoff', 'goto', 'land']
    h.wait_for(lambda: any(m['state'] == 'completed' and m['decision_id'] == decision['id']
                           for m in vehicle.missions), 60, 'the mission completed')
    steps = [m['step_action'] for m in vehicle.missions if m['state'] == 'running']
    assert steps.index('takeoff') < steps.index('goto') < steps.index('land')
    assert [c['command'] for c in vehicle.commands][:1] == ['takeoff']
    h.wait_for(lambda: not vehicle.vehicle.in_air, 30, 'touch down')
    # every command stamped with the node's (simulated) clock, the clock of the setpoints'
    # headers: the vehicle can tell a setpoint sent before the land from one sent after it
    land = next(c for c in vehicle.commands if c['command'] == 'land')
    assert all(100.0 <= c['stamp'] <= vehicle.now for c in vehicle.commands)
    assert 100.0 <= max(stamp for stamp, _, _ in vehicle.setpoints) <= land['stamp']
    x, y, z = vehicle.vehicle.position
    tolerance = h.node.settings.values['arrival_tolerance_m']  # "arrived" means within it
    assert abs(x) <= tolerance + 0.05 and abs(y - 20.0) <= tolerance + 0.05 and z < 0.05
    return decision


def test_a_vehicle_output_of_an_ended_mission_is_never_published(flight):
    """An executor output that its mission's end overtook (another thread computed it before)
    reaches neither setpoint_position nor ~/vehicle_command; a current one does."""
    h, vehicle = flight
    h.wait_for(lambda: h.node.loop.vehicle.position_m is not None, what='a pose')
    decision = h.command('take off to 10 m')
    h.wait_for(lambda: any(m['state'] == 'completed' and m['decision_id'] == decision['id']
                           for m in vehicle.missions), 60, 'the takeoff completed')
    generation = h.node.loop.executor.generation
    sent = len(vehicle.setpoints)
    h.node._publish_execution(ExecutorOutput(setpoint=Setpoint(50.0, 0.0, 10.0, 0.0),
                                             commands=[{'command': 'capture_photo'}],
                                             generation=generation - 1))
    h.node._publish_execution(ExecutorOutput(
        setpoint=Setpoint(1.0, 2.0, 10.0, 0.0),
        commands=[{'command': 'set_speed', 'speed_mps': 4.0}], generation=generation))
    h.wait_for(lambda: vehicle.commands and vehicle.commands[-1]['command'] == 'set_speed',
               what='the current command')
    h.wait_for(lambda: len(vehicle.setpoints) > sent, what='the current setpoint')
    assert [(x, y) for _, x, y in vehicle.setpoints[sent:]] == [(1.0, 2.0)]
    assert 'capture_photo' not in [c['command'] for c in vehicle.commands]


def test_a_new_command_preempts_the_running_mission(flight):
    h, vehicle = flight
    h.wait_for(lambda: h.node.loop.vehicle.position_m is not None, what='a pose')
    first = h.command('take off to 10 m, then fly 100 m north, then land')
    h.wait_for(lambda: any(m['step_action'] == 'goto' and m['state'] == 'running'
                           for m in vehicle.missions), 60, 'the goto step')
    stop = h.command('hold position')
    h.wait_for(lambda: any(m['decision_id'] == first['id'] and m['state'] == 'preempted'
                           for m in vehicle.missions), 30, 'the mission preempted')
    assert stop['action'] == 'hold'
    assert vehicle.vehicle.position[1] < 99.0  # it did not fly the rest of the leg


def test_finishing_after_ctrl_c_publishes_nothing_and_ends_the_loop(capsys):
    """Ctrl-C shuts the middleware down before the entry point's `finish`: the mission's abort
    cannot be published any more and must not fail trying (it used to log an RCLError)."""
    import rclpy

    from ministral_node.core.decision_loop import FINALIZED

    h = Harness(MinistralNode, {'execute_missions': True})
    try:
        assert h.command('take off to 10 m')['action'] == 'takeoff'
        h.stop_spinning()
        rclpy.shutdown(context=h.context)
        warnings: list[str] = []
        real = h.node.get_logger()
        h.node.get_logger = lambda: SimpleNamespace(warning=warnings.append, info=real.info,
                                                    error=real.error)
        h.node.finish()
        assert warnings == []
        assert h.node.loop.state == FINALIZED
    finally:
        h.node.destroy_node()
        h.client.destroy_node()
