"""The simulator over DDS, exactly as a vehicle: what it publishes and what it obeys.

Publishes (relative names, like a camera driver and MAVROS remapped to the node's inputs):
`/clock` (rosgraph_msgs/Clock, 50 Hz of simulated time), `image_raw` (sensor_msgs/Image rgb8)
and `camera_info` at the camera rate, `pose` (geometry_msgs/PoseStamped, local ENU from home,
frame `map`, the MAVROS `local_position/pose` convention, 30 Hz) unless the pose is lost,
`battery` (sensor_msgs/BatteryState, 2 Hz) and `ground_heartbeat` (std_msgs/Header, 1 Hz,
frame_id `ground`) while the ground link is up (the simulator's faults decide).
Consumes `setpoint_position` (PoseStamped, local ENU) and the node's `~/vehicle_command`
(std_msgs/String, JSON {"command": ..., "stamp": seconds}); a setpoint whose header is stamped
before the last mode command's `stamp` is ignored (the topics do not keep each other's order).

With `interface` px4 or mavros the vehicle speaks the autopilot instead: a simulated PX4
(`sim.flight_controller.FlightController`: `SimAutopilot` flying the simulator's multirotor)
behind PX4's `/fmu` topics or MAVROS's topics and services (`ros.autopilot_over_dds`); it
publishes the pose and the battery there (`vehicle_local_position`, `battery_status`; MAVROS
`local_position/pose`, `battery`; none while the pose is lost) with the vehicle status
(5 Hz and on every change), and consumes neither `setpoint_position` nor `~/vehicle_command`.

The caller owns time: `advance(steps)` steps the simulator (and the autopilot) and publishes;
subscriptions and service calls arrive on the executor's threads and are applied under a lock.
"""

from __future__ import annotations

import json
import math
import threading
from typing import Any

from builtin_interfaces.msg import Time
from geometry_msgs.msg import PoseStamped
from rclpy.node import Node
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import BatteryState, CameraInfo, Image
from std_msgs.msg import Header, String

from ministral_node.ros.autopilot_over_dds import MavrosOverDds, Px4OverDds
from ministral_node.sim.flight_controller import FlightController
from ministral_node.sim.scenario import INTERFACES
from ministral_node.sim.simulator import Frame, Simulator

VEHICLE_COMMAND_TOPIC = '/ministral_node/vehicle_command'
AUTOPILOTS = {'px4': Px4OverDds, 'mavros': MavrosOverDds}


def stamp(t: float) -> Time:
    """A builtin_interfaces/Time of `t` seconds."""
    sec = int(math.floor(t))
    return Time(sec=sec, nanosec=int(round((t - sec) * 1e9)) % 1_000_000_000)


def enu_quaternion(heading_deg: float) -> tuple[float, float, float, float]:
    """(x, y, z, w) of a level ENU orientation with this compass heading."""
    yaw = math.radians(90.0 - heading_deg)
    return 0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2)


def yaw_from_quaternion(x: float, y: float, z: float, w: float) -> float | None:
    """ENU yaw (radians) of a quaternion; None when it is not a rotation (all zeros)."""
    if x * x + y * y + z * z + w * w < 1e-9:
        return None
    return math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))


class SimVehicleNode(Node):
    """Publishes the simulator's vehicle and obeys setpoints and vehicle commands."""

    def __init__(self, sim: Simulator, name: str = 'sim_vehicle',
                 vehicle_command_topic: str = VEHICLE_COMMAND_TOPIC,
                 battery_rate_hz: float = 2.0, clock_rate_hz: float = 50.0,
                 pose_rate_hz: float = 30.0, interface: str = 'json',
                 status_rate_hz: float = 5.0, **kwargs: Any) -> None:
        if interface not in INTERFACES:
            raise ValueError(f'vehicle interface is one of {", ".join(INTERFACES)}, '
                             f'not {interface!r}')
        super().__init__(name, **kwargs)
        self.sim = sim
        self.interface = interface
        self.lock = threading.Lock()
        reliable = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
        sensor = QoSProfile(depth=1, history=HistoryPolicy.KEEP_LAST,
                            reliability=ReliabilityPolicy.BEST_EFFORT)
        self._clock_out = self.create_publisher(Clock, '/clock', 10)
        self._image = self.create_publisher(Image, 'image_raw', sensor)
        # Reliable: serves reliable subscribers (the node's camera_info) and best-effort ones.
        self._info = self.create_publisher(CameraInfo, 'camera_info',
                                           QoSProfile(depth=1,
                                                      reliability=ReliabilityPolicy.RELIABLE))
        self._heartbeat = self.create_publisher(Header, 'ground_heartbeat', 10)
        self.controller: FlightController | None = None
        self.autopilot: Px4OverDds | MavrosOverDds | None = None
        if interface == 'json':
            self._pose = self.create_publisher(PoseStamped, 'pose', sensor)
            self._battery = self.create_publisher(BatteryState, 'battery', sensor)
            self.create_subscription(PoseStamped, 'setpoint_position', self._on_setpoint,
                                     reliable)
            self.create_subscription(String, vehicle_command_topic, self._on_command, reliable)
        else:
            self.controller = FlightController(sim)
            self.autopilot = AUTOPILOTS[interface](self, self.controller.autopilot, self.lock,
                                                   lambda: self.sim.t)
        self._every = {'battery': 1.0 / battery_rate_hz, 'clock': 1.0 / clock_rate_hz,
                       'pose': 1.0 / pose_rate_hz, 'status': 1.0 / status_rate_hz}
        self._next = dict.fromkeys(self._every, 0.0)
        self.frames_published = 0
        self.bad_commands: list[str] = []
        self.on_frame = None  # optional callable(Frame) for recorders

    # Inputs

    def _on_setpoint(self, msg: PoseStamped) -> None:
        p, q, t = msg.pose.position, msg.pose.orientation, msg.header.stamp
        stamp = t.sec + t.nanosec * 1e-9 if t.sec or t.nanosec else None
        with self.lock:
            self.sim.setpoint(p.x, p.y, p.z, yaw_from_quaternion(q.x, q.y, q.z, q.w), stamp)

    def _on_command(self, msg: String) -> None:
        try:
            command = json.loads(msg.data)
            if not isinstance(command, dict) or not isinstance(command.get('command'), str):
                raise ValueError('not a JSON object with a "command" string')
        except ValueError as exc:
            self.bad_commands.append(msg.data[:200])
            self.get_logger().error(f'vehicle command refused: {exc}: {msg.data[:200]!r}')
            return
        with self.lock:
            self.sim.command(command)

    # Time and outputs

    def advance(self, steps: int = 1) -> None:
        """Step the simulator `steps` times, publishing what the vehicle publishes."""
        for _ in range(steps):
            with self.lock:
                self.sim.step()
                if self.controller is not None:
                    self.controller.step()
                t = self.sim.t
                frame = self.sim.frame()
                pose = self.sim.pose()
                battery = self.sim.battery_pct()
                heartbeat = self.sim.heartbeat()
            now = stamp(t)
            if self._due('clock', t):
                self._clock_out.publish(Clock(clock=now))
            pose_due, battery_due = self._due('pose', t), self._due('battery', t)
            if self.autopilot is not None:
                self.autopilot.publish(status=self._due('status', t),
                                       pose=pose_due and pose is not None, battery=battery_due)
            else:
                if pose_due and pose is not None:
                    self._publish_pose(now, *pose)
                if battery_due:
                    self._publish_battery(now, battery)
            if heartbeat:
                self._heartbeat.publish(Header(stamp=now, frame_id='ground'))
            if frame is not None:
                self._publish_frame(now, frame)

    def node_listening(self) -> bool:
        """Whether the node subscribes to the vehicle's state yet (the pose; the autopilot's
        status with px4 or mavros)."""
        if self.autopilot is not None:
            return self.autopilot.listening()
        return self._pose.get_subscription_count() >= 1

    def _due(self, name: str, t: float) -> bool:
        if t + 1e-9 < self._next[name]:
            return False
        while self._next[name] <= t + 1e-9:
            self._next[name] += self._every[name]
        return True

    def _publish_pose(self, now: Time, position: tuple[float, float, float],
                      heading_deg: float) -> None:
        msg = PoseStamped()
        msg.header.stamp, msg.header.frame_id = now, 'map'
        msg.pose.position.x, msg.pose.position.y, msg.pose.position.z = position
        q = msg.pose.orientation
        q.x, q.y, q.z, q.w = enu_quaternion(heading_deg)
        self._pose.publish(msg)

    def _publish_battery(self, now: Time, percent: float) -> None:
        msg = BatteryState()
        msg.header.stamp = now
        msg.percentage = float(percent) / 100.0
        msg.voltage = float(14.0 + 2.8 * percent / 100.0)  # a 4S pack
        msg.present = True
        msg.power_supply_status = BatteryState.POWER_SUPPLY_STATUS_DISCHARGING
        self._battery.publish(msg)

    def _publish_frame(self, now: Time, frame: Frame) -> None:
        camera = self.sim.camera
        header = Header(stamp=now, frame_id='camera_optical')
        image = Image(header=header, height=camera.height, width=camera.width,
                      encoding='rgb8', is_bigendian=0, step=camera.width * 3)
        image.data = frame.image.tobytes()
        info = CameraInfo(header=header, height=camera.height, width=camera.width,
                          distortion_model='plumb_bob')
        info.k = camera.k()
        info.d = [0.0] * 5
        info.r = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
        f, cx, cy = camera.k()[0], camera.k()[2], camera.k()[5]
        info.p = [f, 0.0, cx, 0.0, 0.0, f, cy, 0.0, 0.0, 0.0, 1.0, 0.0]
        self._image.publish(image)
        self._info.publish(info)
        self.frames_published += 1
        if self.on_frame is not None:
            self.on_frame(frame)
