"""A stand-in for the node's mission executor wiring, for the simulator until the node runs
missions itself (`execute_missions`): a separate node that takes the node's published
decisions and runs them through `ministral_node.mission.executor.MissionExecutor`, publishing
exactly what the node will (`setpoint_position`, `~/vehicle_command`, `~/mission` under the
node's name).

It is the wiring the node needs, in one place: decisions in -> `submit`; a timer at
`setpoint_rate_hz` on the ROS clock -> `update`; pose and battery -> `VehicleState`;
`camera_info` -> intrinsics.
"""

from __future__ import annotations

import json
import math
from typing import Any

from geometry_msgs.msg import PoseStamped
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import BatteryState, CameraInfo
from std_msgs.msg import String

from ministral_node.settings import Settings
from ministral_node.vehicle import VehicleState, battery_percent, heading_from_quaternion


def executor_available() -> bool:
    """Whether this checkout has the mission executor (`ministral_node.mission`)."""
    try:
        import ministral_node.mission.executor  # noqa: F401
    except ImportError:
        return False
    return True


class MissionBridge(Node):
    """Decisions of `node_name` in, the executor's setpoints, commands and status out."""

    def __init__(self, values: dict[str, Any], node_name: str = 'ministral_node',
                 **kwargs: Any) -> None:
        super().__init__('mission_bridge',
                         parameter_overrides=[Parameter('use_sim_time', value=True)], **kwargs)
        from ministral_node.mission.executor import ExecutorSettings, MissionExecutor
        from ministral_node.safety import SafetyEnvelope

        clock = _RosClock(self)
        settings = Settings.from_values(values)
        self.missions = MissionExecutor(ExecutorSettings.from_params(values),
                                        SafetyEnvelope(settings.limits, clock))
        self.vehicle = VehicleState()
        reliable = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
        sensor = QoSProfile(depth=1, history=HistoryPolicy.KEEP_LAST,
                            reliability=ReliabilityPolicy.BEST_EFFORT)
        base = f'/{node_name}'
        self._setpoint = self.create_publisher(PoseStamped, 'setpoint_position', reliable)
        self._command = self.create_publisher(String, f'{base}/vehicle_command', reliable)
        self._mission = self.create_publisher(String, f'{base}/mission', reliable)
        self.create_subscription(String, f'{base}/decision', self._on_decision, reliable)
        self.create_subscription(PoseStamped, 'pose', self._on_pose, sensor)
        self.create_subscription(BatteryState, 'battery', self._on_battery, sensor)
        self.create_subscription(CameraInfo, 'camera_info', self._on_camera_info, sensor)
        self.create_timer(1.0 / float(values.get('setpoint_rate_hz', 20.0)), self._tick)
        self.statuses: list[dict] = []

    def _now(self) -> float:
        return self.get_clock().now().nanoseconds / 1e9

    def _on_pose(self, msg: PoseStamped) -> None:
        p, q = msg.pose.position, msg.pose.orientation
        self.vehicle = self.vehicle.with_pose(p.x, p.y, p.z,
                                              heading_from_quaternion(q.x, q.y, q.z, q.w),
                                              self._now())

    def _on_battery(self, msg: BatteryState) -> None:
        self.vehicle = self.vehicle.with_battery(battery_percent(msg.percentage), self._now())

    def _on_camera_info(self, msg: CameraInfo) -> None:
        from ministral_node.mission.projection import CameraIntrinsics

        self.missions.set_intrinsics(CameraIntrinsics.from_camera_info(
            list(msg.k), msg.width, msg.height))

    def _on_decision(self, msg: String) -> None:
        decision = json.loads(msg.data)
        self._publish(self.missions.submit(decision, self._now(), self.vehicle))

    def _tick(self) -> None:
        self._publish(self.missions.update(self._now(), self.vehicle))

    def _publish(self, out: Any) -> None:
        if out.setpoint is not None:
            sp = out.setpoint
            msg = PoseStamped()
            msg.header.stamp = self.get_clock().now().to_msg()
            msg.header.frame_id = 'map'
            # Floats: a decision's integer altitude (JSON 20) reaches the setpoint as it is.
            position, q = msg.pose.position, msg.pose.orientation
            position.x, position.y, position.z = float(sp.x), float(sp.y), float(sp.z)
            q.z, q.w = math.sin(float(sp.yaw) / 2), math.cos(float(sp.yaw) / 2)
            self._setpoint.publish(msg)
        for command in out.commands:
            self._command.publish(String(data=json.dumps(command)))
        for status in out.statuses:
            self.statuses.append(status)
            self._mission.publish(String(data=json.dumps(status)))


class _RosClock:
    def __init__(self, node: Node) -> None:
        self._node = node

    def now(self) -> float:
        return self._node.get_clock().now().nanoseconds / 1e9
