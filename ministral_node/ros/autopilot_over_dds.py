"""A simulated PX4 (`SimAutopilot`) on DDS, as the node's vehicle link meets a real one: behind
PX4's uXRCE-DDS topics (`Px4OverDds`) or behind MAVROS's topics and services (`MavrosOverDds`).
The simulator uses them (`ministral-sim --vehicle px4|mavros`, through `SimVehicleNode`), and
so do the tests' fakes (test/autopilot_fakes.py).

The caller owns the autopilot and time: it steps the autopilot under `lock` and calls
`publish` when the outputs are due; what the node sends arrives on the executor's threads and
is handed to the autopilot under `lock` at `clock()` (the simulated time), after `observe(role,
fields)` when given. The vehicle status is published when asked and whenever the mode or the
arming changed (PX4 publishes vehicle_status on change), so a takeover reaches the node at
once. px4_msgs / mavros_msgs are imported when an adapter is built.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from typing import Any

from geometry_msgs.msg import PoseStamped
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import BatteryState

from ministral_node.ros.vehicle_link import fill, to_dict
from ministral_node.vehicle_link.frames import ned_to_enu, ned_yaw_to_enu
from ministral_node.vehicle_link.mavros import MavrosTopics, ServiceCall
from ministral_node.vehicle_link.px4 import Px4Topics
from ministral_node.vehicle_link.sim_autopilot import MavrosFacade, SimAutopilot

# PX4's uXRCE-DDS writers: best effort, transient local; its readers best effort.
PX4_WRITER_QOS = QoSProfile(depth=5, history=HistoryPolicy.KEEP_LAST,
                            reliability=ReliabilityPolicy.BEST_EFFORT,
                            durability=DurabilityPolicy.TRANSIENT_LOCAL)
PX4_READER_QOS = QoSProfile(depth=10, history=HistoryPolicy.KEEP_LAST,
                            reliability=ReliabilityPolicy.BEST_EFFORT)
Observe = Callable[[str, dict[str, Any]], None]


class _OverDds:
    """What both share: the autopilot, the lock, the clock, the status sent on change."""

    def __init__(self, node: Any, autopilot: SimAutopilot, lock: Any,
                 clock: Callable[[], float], observe: Observe | None) -> None:
        self.node, self.autopilot, self.lock = node, autopilot, lock
        self.clock, self.observe = clock, observe
        self._status_key: tuple[int, bool, bool] | None = None

    def _observe(self, role: str, fields: dict[str, Any]) -> None:
        if self.observe is not None:
            self.observe(role, fields)

    def _status_due(self, asked: bool) -> bool:
        """Under the lock: whether to publish the status (asked, or the mode or arming
        changed since the last one)."""
        key = (self.autopilot.nav_state, self.autopilot.armed, self.autopilot.landed)
        if asked or key != self._status_key:
            self._status_key = key
            return True
        return False


class Px4OverDds(_OverDds):
    """PX4 over uXRCE-DDS: /fmu/in subscribed, /fmu/out published (px4_msgs)."""

    IN = {'offboard_control_mode': 'OffboardControlMode',
          'trajectory_setpoint': 'TrajectorySetpoint', 'vehicle_command': 'VehicleCommand'}
    OUT = {'vehicle_status': 'VehicleStatus', 'vehicle_land_detected': 'VehicleLandDetected',
           'vehicle_local_position': 'VehicleLocalPosition',
           'vehicle_command_ack': 'VehicleCommandAck', 'battery_status': 'BatteryStatus'}

    def __init__(self, node: Any, autopilot: SimAutopilot, lock: Any,
                 clock: Callable[[], float], topics: Px4Topics | None = None,
                 observe: Observe | None = None) -> None:
        super().__init__(node, autopilot, lock, clock, observe)
        msg = importlib.import_module('px4_msgs.msg')
        names = (topics or Px4Topics()).names()
        for role, kind in self.IN.items():
            node.create_subscription(getattr(msg, kind), names[role],
                                     lambda m, role=role: self._on_in(role, m), PX4_READER_QOS)
        self.outputs = {}
        for role, name in self.OUT.items():
            kind = getattr(msg, name)
            self.outputs[role] = (kind, set(kind.get_fields_and_field_types()),
                                  node.create_publisher(kind, names[role], PX4_WRITER_QOS))

    def _on_in(self, role: str, message: Any) -> None:
        fields = to_dict(message)
        with self.lock:
            self._observe(role, fields)
            self.autopilot.receive(role, fields, self.clock())

    def publish(self, status: bool = True, pose: bool = True, battery: bool = True) -> None:
        """The acks since the last call, and what is asked (the status also on change)."""
        autopilot = self.autopilot
        with self.lock:
            out = [('vehicle_command_ack', ack) for ack in autopilot.take_acks()]
            if self._status_due(status):
                out += [('vehicle_land_detected', autopilot.vehicle_land_detected()),
                        ('vehicle_status', autopilot.vehicle_status())]
            if pose:
                out.append(('vehicle_local_position', autopilot.vehicle_local_position()))
            if battery:
                out.append(('battery_status', autopilot.battery_status()))
        for role, fields in out:
            kind, known, publisher = self.outputs[role]
            publisher.publish(fill(kind(), {k: v for k, v in fields.items() if k in known}))

    def listening(self) -> bool:
        """Whether the node subscribes to the vehicle status yet."""
        return self.outputs['vehicle_status'][2].get_subscription_count() >= 1


class MavrosOverDds(_OverDds):
    """MAVROS in front of the simulated PX4: setpoint_position/local in; state,
    extended_state, local_position/pose and battery out; arming, set_mode and cmd/command
    served (`MavrosFacade` answers as MAVROS does)."""

    SERVICES = {'arming': 'CommandBool', 'set_mode': 'SetMode', 'command': 'CommandLong'}

    def __init__(self, node: Any, autopilot: SimAutopilot, lock: Any,
                 clock: Callable[[], float], topics: MavrosTopics | None = None,
                 observe: Observe | None = None) -> None:
        super().__init__(node, autopilot, lock, clock, observe)
        self._msg = importlib.import_module('mavros_msgs.msg')
        srv = importlib.import_module('mavros_msgs.srv')
        self.facade = MavrosFacade(autopilot)
        names = (topics or MavrosTopics()).names()
        node.create_subscription(PoseStamped, names['setpoint'], self._on_setpoint, 10)
        for role, kind in self.SERVICES.items():
            node.create_service(getattr(srv, kind), names[role],
                                lambda request, response, role=role:
                                self._serve(role, request, response))
        self.state_pub = node.create_publisher(self._msg.State, names['state'], 10)
        self.extended_pub = node.create_publisher(self._msg.ExtendedState,
                                                  names['extended_state'], 10)
        self.pose_pub = node.create_publisher(PoseStamped, names['local_pose'], 10)
        self.battery_pub = node.create_publisher(BatteryState, names['battery'], 10)

    def _on_setpoint(self, message: PoseStamped) -> None:
        fields = to_dict(message.pose)
        with self.lock:
            self._observe('setpoint', fields)
            self.facade.setpoint(fields, self.clock())

    def _serve(self, role: str, request: Any, response: Any) -> Any:
        fields = to_dict(request)
        with self.lock:
            self._observe(role, fields)
            answer = self.facade.call(ServiceCall(role, fields), self.clock())
        known = set(type(response).get_fields_and_field_types())
        return fill(response, {k: v for k, v in answer.items() if k in known})

    def publish(self, status: bool = True, pose: bool = True, battery: bool = True) -> None:
        """What is asked (the state also on change)."""
        autopilot = self.autopilot
        with self.lock:
            autopilot.take_acks()  # MAVROS answers through the service responses
            states = (self.facade.state(), self.facade.extended_state()) \
                if self._status_due(status) else None
            where = (ned_to_enu(tuple(autopilot.position)), ned_yaw_to_enu(autopilot.yaw))
            remaining = autopilot.body.remaining()
        if states is not None:
            self.state_pub.publish(fill(self._msg.State(), states[0]))
            self.extended_pub.publish(fill(self._msg.ExtendedState(), states[1]))
        if pose:
            message = PoseStamped()
            message.header.frame_id = 'map'
            position, yaw = where
            fill(message.pose.position, dict(zip('xyz', position)))
            message.pose.orientation.z = math.sin(yaw / 2.0)
            message.pose.orientation.w = math.cos(yaw / 2.0)
            self.pose_pub.publish(message)
        if battery:
            self.battery_pub.publish(BatteryState(percentage=float(remaining)))

    def listening(self) -> bool:
        """Whether the node subscribes to the vehicle state yet."""
        return self.state_pub.get_subscription_count() >= 1
