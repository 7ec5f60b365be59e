"""The simulated vehicle over real DDS: what it publishes, what it obeys (a scripted stand-in
for the node's mission executor sends the contract's messages)."""

from __future__ import annotations

import itertools
import json
import math
import os
import threading
import time

import pytest

rclpy = pytest.importorskip('rclpy')

from geometry_msgs.msg import PoseStamped  # noqa: E402
from rclpy.executors import MultiThreadedExecutor  # noqa: E402
from rclpy.qos import QoSProfile, ReliabilityPolicy  # noqa: E402
from rosgraph_msgs.msg import Clock  # noqa: E402
from sensor_msgs.msg import BatteryState, CameraInfo, Image  # noqa: E402
from std_msgs.msg import Header, String  # noqa: E402

from ministral_node.inputs.vehicle import heading_from_quaternion  # noqa: E402
from ministral_node.ros.sim_over_dds import (  # noqa: E402
    VEHICLE_COMMAND_TOPIC,
    SimVehicleNode,
    enu_quaternion,
)
from ministral_node.safety.invariants import Limits  # noqa: E402
from ministral_node.sim.faults import Fault, FaultSchedule  # noqa: E402
from ministral_node.sim.simulator import Simulator  # noqa: E402
from ministral_node.sim.world import CameraModel, make_layout  # noqa: E402

_ids = itertools.count()


def seconds(stamp) -> float:
    return stamp.sec + stamp.nanosec * 1e-9


def test_the_sim_vehicle_publishes_like_a_vehicle_and_obeys_the_contract():
    domain = 160 + (os.getpid() + next(_ids)) % 20
    context = rclpy.Context()
    rclpy.init(context=context, domain_id=domain)
    faults = FaultSchedule([Fault('link_loss', 3.0), Fault('pose_lost', 4.0, 1.0)])
    sim = Simulator(make_layout(1, clutter=3), Limits(), CameraModel(rate_hz=5.0), faults)
    vehicle = SimVehicleNode(sim, context=context)
    client = rclpy.create_node('stand_in_executor', context=context)
    got: dict[str, list] = {k: [] for k in ('clock', 'image', 'info', 'pose', 'battery',
                                            'heartbeat')}
    lock = threading.Lock()

    def keep(name):
        def callback(msg):
            with lock:
                got[name].append(msg)
        return callback

    sensor = QoSProfile(depth=50, reliability=ReliabilityPolicy.BEST_EFFORT)
    for name, kind, topic, qos in (('clock', Clock, '/clock', 100),
                                   ('image', Image, 'image_raw', sensor),
                                   ('info', CameraInfo, 'camera_info', sensor),
                                   ('pose', PoseStamped, 'pose', sensor),
                                   ('battery', BatteryState, 'battery', sensor),
                                   ('heartbeat', Header, 'ground_heartbeat', 10)):
        client.create_subscription(kind, topic, keep(name), qos)
    reliable = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
    setpoints = client.create_publisher(PoseStamped, 'setpoint_position', reliable)
    commands = client.create_publisher(String, VEHICLE_COMMAND_TOPIC, reliable)
    executor = MultiThreadedExecutor(num_threads=2, context=context)
    executor.add_node(vehicle)
    executor.add_node(client)
    spinner = threading.Thread(target=executor.spin, daemon=True)
    spinner.start()
    try:
        deadline = time.monotonic() + 15.0
        while (commands.get_subscription_count() < 1 or setpoints.get_subscription_count() < 1
               or vehicle._pose.get_subscription_count() < 1) and time.monotonic() < deadline:
            time.sleep(0.05)
        commands.publish(String(data='not json'))
        commands.publish(String(data=json.dumps({'command': 'takeoff', 'altitude_m': 8.0})))
        target = PoseStamped()
        target.pose.position.x, target.pose.position.y, target.pose.position.z = 0.0, 5.0, 8.0
        q = enu_quaternion(0.0)
        target.pose.orientation.z, target.pose.orientation.w = q[2], q[3]
        while sim.t < 6.0:
            setpoints.publish(target)  # the executor streams at >= 10 Hz
            vehicle.advance(5)
            time.sleep(0.02)
        deadline = time.monotonic() + 10.0
        while sim.vehicle.mode != 'offboard' and time.monotonic() < deadline:
            time.sleep(0.05)
        flying = sim.vehicle.mode
        # land (stamped by the node's clock), then setpoints stamped before it that the other
        # topic delivers late: ignored, the vehicle lands
        commands.publish(String(data=json.dumps({'command': 'land', 'stamp': 50.0})))
        deadline = time.monotonic() + 10.0
        while len(sim.vehicle.commands) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        target.header.stamp.sec, target.header.stamp.nanosec = 49, 900_000_000
        while sim.t < 7.0:
            setpoints.publish(target)
            vehicle.advance(5)
            time.sleep(0.02)
        deadline = time.monotonic() + 10.0  # let the last messages arrive (a loaded machine)
        while time.monotonic() < deadline:
            with lock:
                if got['clock'] and seconds(got['clock'][-1].clock) >= sim.t - 1e-6:
                    break
            time.sleep(0.05)
        time.sleep(0.2)
    finally:
        executor.shutdown(timeout_sec=2.0)
        vehicle.destroy_node()
        client.destroy_node()
        context.try_shutdown()
        sim.close()
    with lock:
        clock = [seconds(m.clock) for m in got['clock']]
        assert clock == sorted(clock) and clock[-1] == pytest.approx(7.0, abs=0.05)
        image, info = got['image'][-1], got['info'][-1]
        assert (image.width, image.height, image.encoding) == (320, 240, 'rgb8')
        assert len(image.data) == 320 * 240 * 3 and image.step == 960
        assert list(info.k) == pytest.approx(sim.camera.k())
        assert 12 <= len(got['image']) <= 36  # 5 Hz for 7 s (best effort may drop some)
        poses = [(seconds(m.header.stamp), m) for m in got['pose']]
        assert not [t for t, _ in poses if 4.0 <= t < 4.99]  # pose lost for 1 s
        last = poses[-1][1]
        assert last.header.frame_id == 'map'
        assert last.pose.position.z > 5.0  # took off and climbs towards 8 m
        assert last.pose.position.y > 0.5  # follows the setpoint north
        o = last.pose.orientation
        assert heading_from_quaternion(o.x, o.y, o.z, o.w) == pytest.approx(0.0, abs=1.0)
        battery = got['battery'][-1]
        assert 0.0 < battery.percentage < 1.0 and battery.present
        beats = [seconds(m.stamp) for m in got['heartbeat']]
        assert beats and max(beats) < 3.0 and got['heartbeat'][0].frame_id == 'ground'
    assert vehicle.bad_commands == ['not json']
    assert [c['command'] for _, c in sim.vehicle.commands] == ['takeoff', 'land']
    assert flying == 'offboard' and math.isfinite(sim.vehicle.position[1])
    assert sim.vehicle.mode == 'land' and sim.vehicle.stale_setpoints >= 10


@pytest.mark.parametrize('interface', ['px4', 'mavros'])
def test_with_an_autopilot_the_vehicle_speaks_px4_or_mavros_and_takes_its_faults(interface):
    pytest.importorskip('px4_msgs')
    pytest.importorskip('mavros_msgs')
    from mavros_msgs.msg import State
    from mavros_msgs.srv import CommandBool
    from px4_msgs.msg import VehicleCommand, VehicleCommandAck, VehicleStatus

    from ministral_node.vehicle_link import px4
    from ministral_node.vehicle_link.vocabulary import ARM, LinkCommand

    domain = 160 + (os.getpid() + next(_ids)) % 20
    context = rclpy.Context()
    rclpy.init(context=context, domain_id=domain)
    sim = Simulator(make_layout(1, clutter=0), Limits(), CameraModel(rate_hz=5.0),
                    FaultSchedule([Fault('arming_denied', 0.0)]), render=False)
    vehicle = SimVehicleNode(sim, context=context, interface=interface)
    client = rclpy.create_node('stand_in_link', context=context)
    got: list = []
    best_effort = QoSProfile(depth=50, reliability=ReliabilityPolicy.BEST_EFFORT)
    if interface == 'px4':
        client.create_subscription(VehicleStatus, '/fmu/out/vehicle_status_v1', got.append,
                                   best_effort)
        client.create_subscription(VehicleCommandAck, '/fmu/out/vehicle_command_ack',
                                   got.append, best_effort)
        commands = client.create_publisher(VehicleCommand, '/fmu/in/vehicle_command',
                                           best_effort)
    else:
        client.create_subscription(State, '/mavros/state', got.append, best_effort)
        arming = client.create_client(CommandBool, '/mavros/cmd/arming')
    executor = MultiThreadedExecutor(num_threads=2, context=context)
    executor.add_node(vehicle)
    executor.add_node(client)
    threading.Thread(target=executor.spin, daemon=True).start()
    try:
        deadline = time.monotonic() + 15.0
        while not vehicle.node_listening() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert vehicle.node_listening()
        assert vehicle.count_publishers('/pose') == 0  # the pose goes through the autopilot
        vehicle.advance(5)
        if interface == 'px4':
            message = VehicleCommand()
            for name, value in px4.vehicle_command(LinkCommand(ARM), 0).items():
                setattr(message, name, value)
            while not [m for m in got if isinstance(m, VehicleCommandAck)] \
                    and time.monotonic() < deadline:
                commands.publish(message)
                vehicle.advance(5)
                time.sleep(0.05)
            answer = next(m for m in got if isinstance(m, VehicleCommandAck)).result
        else:
            assert arming.wait_for_service(timeout_sec=10.0)
            future = arming.call_async(CommandBool.Request(value=True))
            while not future.done() and time.monotonic() < deadline:
                time.sleep(0.05)
            answer = future.result().result
        vehicle.advance(15)  # the status: 5 Hz
        time.sleep(0.3)
    finally:
        executor.shutdown(timeout_sec=2.0)
        vehicle.destroy_node()
        client.destroy_node()
        context.try_shutdown()
    assert answer == 2  # MAV_RESULT_DENIED: the scenario's pre-flight check fails
    last = [m for m in got if isinstance(m, VehicleStatus | State)][-1]
    if interface == 'px4':
        assert (last.arming_state, last.nav_state) == (px4.ARMING_STATE_DISARMED, 4)
    else:
        assert (last.armed, last.mode) == (False, 'AUTO.LOITER')
    assert sim.trace.autopilot_commands[0][1]['command'] == px4.VEHICLE_CMD_COMPONENT_ARM_DISARM
