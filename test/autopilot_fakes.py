"""Test-side autopilots over DDS: `SimAutopilot` (a simulated PX4) behind PX4's /fmu topics or
behind MAVROS's topics and services, in simulated time (/clock), for the node's vehicle link.

Each fake runs its own thread: it steps the simulated PX4 and publishes /clock, the status,
land detection and pose; what the node sends arrives through subscriptions and services and is
kept in `received` (role, simulated time, fields), in order.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any

from geometry_msgs.msg import PoseStamped
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from rosgraph_msgs.msg import Clock as ClockMsg
from sensor_msgs.msg import BatteryState

from ministral_node.ros.vehicle_link import fill, to_dict
from ministral_node.vehicle_link.frames import ned_to_enu
from ministral_node.vehicle_link.mavros import MavrosTopics, ServiceCall
from ministral_node.vehicle_link.px4 import Px4Topics
from ministral_node.vehicle_link.sim_autopilot import MavrosFacade, SimAutopilot, SimFaults

STEP_S = 0.05  # simulated seconds per step, at least
MAX_STEP_S = 0.1  # and at most
SPEEDUP = 4.0  # simulated time runs this much faster than the wall clock
START_S = 100.0
# PX4's uXRCE-DDS writers: best effort, transient local.
PX4_WRITER_QOS = QoSProfile(depth=5, history=HistoryPolicy.KEEP_LAST,
                            reliability=ReliabilityPolicy.BEST_EFFORT,
                            durability=DurabilityPolicy.TRANSIENT_LOCAL)
PX4_READER_QOS = QoSProfile(depth=10, history=HistoryPolicy.KEEP_LAST,
                            reliability=ReliabilityPolicy.BEST_EFFORT)


class FakeAutopilot:
    """The shared part: simulated time, the thread, the fault injected at an altitude."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.now = START_S
        self.autopilot = SimAutopilot(self.now)
        self.lock = threading.Lock()
        self.received: list[tuple[str, float, dict[str, Any]]] = []
        self.takeover_at_altitude_m: float | None = None
        self.takeover_time: float | None = None
        self.clock_pub = client.create_publisher(ClockMsg, '/clock', 10)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    @property
    def altitude_m(self) -> float:
        return -self.autopilot.position[2]

    def roles(self, role: str) -> list[tuple[float, dict[str, Any]]]:
        """(simulated time, fields) of everything received for `role`, in order."""
        with self.lock:
            return [(t, m) for r, t, m in self.received if r == role]

    def _keep(self, role: str, fields: dict[str, Any]) -> None:
        self.received.append((role, self.now, fields))

    def _run(self) -> None:
        last = time.monotonic()
        while not self.stop.is_set():
            wall = time.monotonic()
            dt = min(max((wall - last) * SPEEDUP, STEP_S), MAX_STEP_S)
            last = wall
            with self.lock:
                self.now += dt
                self.autopilot.step(self.now)
                if self.takeover_at_altitude_m is not None and self.takeover_time is None \
                        and self.altitude_m >= self.takeover_at_altitude_m:
                    # the pilot flips the RC mode switch to POSCTL now
                    self.takeover_time = self.now
                    self.autopilot.faults = SimFaults(rc_takeover_at=self.now)
                    self.autopilot.step(self.now + 1e-6)
                now = self.now
            clock = ClockMsg()
            clock.clock.sec, clock.clock.nanosec = int(now), int(now % 1 * 1e9)
            self.clock_pub.publish(clock)
            self._publish()
            self.stop.wait(STEP_S / SPEEDUP)

    def _publish(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.stop.set()
        self.thread.join()


class FakePx4(FakeAutopilot):
    """PX4 over uXRCE-DDS: /fmu/in subscriptions, /fmu/out publications (px4_msgs)."""

    def __init__(self, client: Any, topics: Px4Topics | None = None) -> None:
        super().__init__(client)
        from px4_msgs import msg

        names = (topics or Px4Topics()).names()
        for role, kind in (('offboard_control_mode', msg.OffboardControlMode),
                           ('trajectory_setpoint', msg.TrajectorySetpoint),
                           ('vehicle_command', msg.VehicleCommand)):
            client.create_subscription(kind, names[role],
                                       lambda m, role=role: self._on_in(role, m),
                                       PX4_READER_QOS)
        self.outputs = {role: (kind, client.create_publisher(kind, names[role], PX4_WRITER_QOS))
                        for role, kind in (('vehicle_status', msg.VehicleStatus),
                                           ('vehicle_land_detected', msg.VehicleLandDetected),
                                           ('vehicle_local_position', msg.VehicleLocalPosition),
                                           ('vehicle_command_ack', msg.VehicleCommandAck))}

    def _on_in(self, role: str, message: Any) -> None:
        fields = to_dict(message)
        with self.lock:
            self._keep(role, fields)
            self.autopilot.receive(role, fields, self.now)

    def _publish(self) -> None:
        with self.lock:
            out = [('vehicle_land_detected', self.autopilot.vehicle_land_detected()),
                   ('vehicle_local_position', self.autopilot.vehicle_local_position()),
                   ('vehicle_status', self.autopilot.vehicle_status()),
                   *(('vehicle_command_ack', ack) for ack in self.autopilot.take_acks())]
        for role, fields in out:
            kind, publisher = self.outputs[role]
            known = set(kind.get_fields_and_field_types())
            publisher.publish(fill(kind(), {k: v for k, v in fields.items() if k in known}))


class FakeMavros(FakeAutopilot):
    """MAVROS in front of the simulated PX4: setpoint_position/local in; state,
    extended_state, local_position/pose, battery out; arming, set_mode, cmd/command served."""

    def __init__(self, client: Any, topics: MavrosTopics | None = None) -> None:
        super().__init__(client)
        from mavros_msgs import msg, srv

        self.facade = MavrosFacade(self.autopilot)
        names = (topics or MavrosTopics()).names()
        client.create_subscription(PoseStamped, names['setpoint'], self._on_setpoint, 10)
        for role, kind in (('arming', srv.CommandBool), ('set_mode', srv.SetMode),
                           ('command', srv.CommandLong)):
            client.create_service(kind, names[role],
                                  lambda request, response, role=role:
                                  self._serve(role, request, response))
        self.state_pub = client.create_publisher(msg.State, names['state'], 10)
        self.extended_pub = client.create_publisher(msg.ExtendedState,
                                                    names['extended_state'], 10)
        self.pose_pub = client.create_publisher(PoseStamped, names['local_pose'], 10)
        self.battery_pub = client.create_publisher(BatteryState, names['battery'], 10)
        self._msg = msg

    def _on_setpoint(self, message: PoseStamped) -> None:
        fields = to_dict(message.pose)
        with self.lock:
            self._keep('setpoint', fields)
            self.facade.setpoint(fields, self.now)

    def _serve(self, role: str, request: Any, response: Any) -> Any:
        fields = to_dict(request)
        with self.lock:
            self._keep(role, fields)
            answer = self.facade.call(ServiceCall(role, fields), self.now)
        known = set(type(response).get_fields_and_field_types())
        return fill(response, {k: v for k, v in answer.items() if k in known})

    def _publish(self) -> None:
        with self.lock:
            state, extended = self.facade.state(), self.facade.extended_state()
            east, north, up = ned_to_enu(tuple(self.autopilot.position))
            yaw_enu = math.pi / 2.0 - self.autopilot.yaw
        self.state_pub.publish(fill(self._msg.State(), state))
        self.extended_pub.publish(fill(self._msg.ExtendedState(), extended))
        pose = PoseStamped()
        pose.pose.position.x, pose.pose.position.y, pose.pose.position.z = east, north, up
        pose.pose.orientation.z = math.sin(yaw_enu / 2.0)
        pose.pose.orientation.w = math.cos(yaw_enu / 2.0)
        self.pose_pub.publish(pose)
        self.battery_pub.publish(BatteryState(percentage=0.9))
