"""The vehicle link on ROS (vehicle_interface px4 or mavros): topics, services, QoS.

Thin: `ministral_node.vehicle_link` decides (the handshake in `OffboardLink`, the executor's
outputs in `ExecutorBridge`, the wire format in `Px4Wire` / `MavrosWire`); this module only moves
its plain dicts onto px4_msgs / mavros_msgs and back (docs/vehicle_link.md, "Wiring it into the
node"). px4_msgs and mavros_msgs are imported only when the adapter is built, so the json
interface needs neither.

Threads: executor outputs arrive from the decision and setpoint-timer threads, statuses, acks
and service responses from subscription threads. One re-entrant lock keeps the link
consistent, and a mission abort the link asks for reaches the decision loop under it: the
first reason (say "autopilot took over (mode POSCTL)") ends the mission before another thread
can hand the link a setpoint. Lock order: this lock, then the loop's executor lock (the loop
never holds its lock while it calls out).
"""

from __future__ import annotations

import dataclasses
import importlib
import math
import threading
from collections.abc import Callable, Mapping
from typing import Any

from geometry_msgs.msg import PoseStamped
from rclpy.qos import (
    DurabilityPolicy,
    HistoryPolicy,
    QoSProfile,
    ReliabilityPolicy,
)
from sensor_msgs.msg import BatteryState
from std_srvs.srv import Trigger

from ministral_node.decision import Decision
from ministral_node.inputs.vehicle import battery_percent, heading_from_quaternion
from ministral_node.mission.executor import ExecutorOutput
from ministral_node.ros.events import NO_PUBLISHER_EVENTS, NO_SUBSCRIPTION_EVENTS
from ministral_node.vehicle_link.config import MAVROS, PX4, VehicleLinkConfig
from ministral_node.vehicle_link.executor_bridge import BridgeOutput, ExecutorBridge
from ministral_node.vehicle_link.mavros import (
    LANDED_STATE_ON_GROUND,
    LANDED_STATE_UNDEFINED,
    MavrosWire,
    pose_from_mavros,
)
from ministral_node.vehicle_link.offboard import IDLE, TAKEN_OVER, LinkOutput, OffboardLink
from ministral_node.vehicle_link.px4 import OUT_QOS, Px4Wire, pose_from_px4
from ministral_node.vehicle_link.vocabulary import LinkCommand

# PX4's /fmu/out writers are best effort: subscribe with the sensor-data profile PX4's ROS 2
# guide gives (best effort, volatile, keep last 5), which matches any writer.
PX4_OUT_QOS = QoSProfile(
    depth=OUT_QOS['depth'], history=HistoryPolicy.KEEP_LAST,
    reliability=ReliabilityPolicy.BEST_EFFORT, durability=DurabilityPolicy.VOLATILE)
# /fmu/in: PX4's readers are best effort; a best-effort writer matches them and never blocks.
PX4_IN_QOS = QoSProfile(depth=1, history=HistoryPolicy.KEEP_LAST,
                        reliability=ReliabilityPolicy.BEST_EFFORT)
# MAVROS publishes state reliable and pose / battery with the sensor-data profile: best effort
# readers match both.
MAVROS_IN_QOS = QoSProfile(depth=5, history=HistoryPolicy.KEEP_LAST,
                           reliability=ReliabilityPolicy.BEST_EFFORT)
MAVROS_SETPOINT_QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
Guard = Callable[[str, Callable[..., None]], Callable[..., None]]


def to_dict(message: Any) -> dict[str, Any]:
    """A ROS message's fields as a dict (nested messages as dicts, arrays as lists)."""
    fields = {}
    for name in message.get_fields_and_field_types():
        value = getattr(message, name)
        if hasattr(value, 'get_fields_and_field_types'):
            value = to_dict(value)
        elif hasattr(value, 'tolist'):
            value = value.tolist()
        fields[name] = value
    return fields


def fill(message: Any, fields: Mapping[str, Any]) -> Any:
    """`message` with each field set from `fields` (nested dicts into nested messages)."""
    for name, value in fields.items():
        if isinstance(value, Mapping):
            fill(getattr(message, name), value)
        else:
            setattr(message, name, value)
    return message


class LinkAdapter:
    """What PX4 and MAVROS share: the link, the bridge, aborts and the vehicle state.

    `loop` is the node's DecisionLoop (clock, pose, battery, abort_mission); `group` the
    callback group of the autopilot's inputs; `guard(component, callback)` wraps callbacks so
    an unexpected exception is logged and diagnosed, never raised into the executor.
    """

    def __init__(self, node: Any, config: VehicleLinkConfig, loop: Any, group: Any,
                 guard: Guard) -> None:
        self.node, self.config, self.loop, self.group = node, config, loop, group
        self.guard = guard
        self.link = OffboardLink(config.settings, steady=loop.steady)
        self.bridge = ExecutorBridge(self.link, loop.current)
        self._lock = threading.RLock()
        self._landed: bool | None = None
        self._entities: list[tuple[Callable[[Any], Any], Any]] = []
        self._closed = False
        # The operator's explicit resume after a takeover (nothing else re-arms the link).
        service = node.create_service(Trigger, '~/resume', self._on_resume, callback_group=group)
        self._entities.append((node.destroy_service, service))

    # -- from the node -----------------------------------------------------------------------

    def execute(self, out: ExecutorOutput) -> None:
        """Every executor output (a submit, an abort, a timer update): commands go out now,
        the stream on the next tick."""
        self._run(lambda now: self.bridge.apply(out, now), stream=False)

    def tick(self) -> None:
        """The setpoint timer (after the executor's update): timeouts, retries, the stream."""
        self._run(lambda now: BridgeOutput.of(self.link.tick(now)), stream=True)

    def resume(self) -> tuple[bool, str]:
        """An operator's explicit resume after a takeover (nothing else calls it): (resumed,
        what the link says)."""
        with self._lock:
            before, reason = self.link.state, self.link.reason
            self.link.resume(self.loop.clock.now())
            if before == TAKEN_OVER and self.link.state == IDLE:
                self.node.get_logger().info(f'vehicle link: operator resumed after: {reason}')
                return True, f'resumed after: {reason}'
            return False, f'nothing to resume: the link is {before}'

    def refusal(self, decision: Decision) -> str | None:
        """Why the link will not fly `decision` (for its notes), or None."""
        with self._lock:
            return self.bridge.refusal(decision)

    def _on_resume(self, request: Any, response: Any) -> Any:
        response.success, response.message = self.resume()
        return response

    def status(self) -> dict[str, Any]:
        """The link's state for ~/status."""
        with self._lock:
            status = self.link.status
            return {'interface': self.config.interface, 'state': self.link.state,
                    'reason': self.link.reason,
                    'autopilot_mode': status.mode_name if status else None,
                    'armed': status.armed if status else None, 'landed': self._landed}

    def close(self) -> None:
        """Destroy the publishers, subscriptions and clients."""
        with self._lock:  # a callback still running sends nothing after this
            self._closed = True
            for destroy, entity in self._entities:
                destroy(entity)
            self._entities = []

    # -- from the autopilot ------------------------------------------------------------------

    def _on_link_output(self, call: Callable[[float], LinkOutput]) -> None:
        """One input from the autopilot (`call(now)` hands it to the link)."""
        self._run(lambda now: BridgeOutput.of(call(now)), stream=False)

    def _run(self, call: Callable[[float], BridgeOutput], stream: bool) -> None:
        """Under the lock: `call(now)`, log its transitions, send its commands (and the
        stream when `stream`), abort the mission with each reason it gives."""
        with self._lock:
            now = self.loop.clock.now()
            merged = call(now)
            for event in merged.events:
                self.node.get_logger().info(f'vehicle link: {event.state}: {event.reason}')
            out = merged.as_link_output()
            self._send(out if stream else dataclasses.replace(out, stream=False), now)
            self._abort(merged.aborts)

    def _pose(self, position: tuple[float, float, float] | None,
              heading_deg: float | None) -> None:
        in_air = None if self._landed is None else not self._landed
        if position is None:
            self.loop.pose(math.nan, math.nan, math.nan, None, in_air=in_air)
        else:
            self.loop.pose(*position, heading_deg, in_air=in_air)

    def _abort(self, reasons: list[str]) -> None:
        for reason in reasons:
            if self.loop.abort_mission(reason):
                self.node.get_logger().warning(f'vehicle link: mission aborted: {reason}')

    # -- for subclasses ----------------------------------------------------------------------

    def _send(self, out: LinkOutput, now: float) -> None:
        if not self._closed:
            self._put(out, now)

    def _put(self, out: LinkOutput, now: float) -> None:
        """Publish and call what `out` says (the interface's part)."""
        raise NotImplementedError

    def _publisher(self, kind: type, topic: str, qos: QoSProfile) -> Any:
        publisher = self.node.create_publisher(kind, topic, qos,
                                               event_callbacks=NO_PUBLISHER_EVENTS)
        self._entities.append((self.node.destroy_publisher, publisher))
        return publisher

    def _subscription(self, kind: type, topic: str, callback: Callable[[Any], None],
                      qos: QoSProfile) -> None:
        subscription = self.node.create_subscription(
            kind, topic, self.guard('autopilot', callback), qos, callback_group=self.group,
            event_callbacks=NO_SUBSCRIPTION_EVENTS)
        self._entities.append((self.node.destroy_subscription, subscription))


class Px4Adapter(LinkAdapter):
    """PX4 over uXRCE-DDS: /fmu/in publishers, /fmu/out subscriptions (px4_msgs)."""

    def __init__(self, node: Any, config: VehicleLinkConfig, loop: Any, group: Any,
                 guard: Guard) -> None:
        super().__init__(node, config, loop, group, guard)
        msg = importlib.import_module('px4_msgs.msg')
        self.wire = Px4Wire()
        topics = config.px4_topics.names()
        kinds = {'offboard_control_mode': msg.OffboardControlMode,
                 'trajectory_setpoint': msg.TrajectorySetpoint,
                 'vehicle_command': msg.VehicleCommand}
        self._out = {role: (kind, self._publisher(kind, topics[role], PX4_IN_QOS))
                     for role, kind in kinds.items()}
        self._subscription(msg.VehicleStatus, topics['vehicle_status'], self._on_status,
                           PX4_OUT_QOS)
        self._subscription(msg.VehicleLandDetected, topics['vehicle_land_detected'],
                           self._on_land_detected, PX4_OUT_QOS)
        self._subscription(msg.VehicleCommandAck, topics['vehicle_command_ack'], self._on_ack,
                           PX4_OUT_QOS)
        self._subscription(msg.VehicleLocalPosition, topics['vehicle_local_position'],
                           self._on_local_position, PX4_OUT_QOS)
        self._subscription(msg.BatteryStatus, topics['battery_status'], self._on_battery,
                           PX4_OUT_QOS)

    def _put(self, out: LinkOutput, now: float) -> None:
        for role, fields in self.wire.outgoing(out, now):
            kind, publisher = self._out[role]
            publisher.publish(fill(kind(), fields))

    def _on_status(self, message: Any) -> None:
        status = self.wire.status(to_dict(message))
        self._on_link_output(lambda now: self.link.on_status(now, status))

    def _on_land_detected(self, message: Any) -> None:
        with self._lock:
            self.wire.land_detected(to_dict(message))
            self._landed = bool(message.landed)

    def _on_ack(self, message: Any) -> None:
        with self._lock:
            ack = self.wire.ack(to_dict(message))
        if ack is not None:
            self._on_link_output(lambda now: self.link.on_ack(now, ack))

    def _on_local_position(self, message: Any) -> None:
        position, heading = pose_from_px4(to_dict(message), self.wire.origin)
        self._pose(position, heading)

    def _on_battery(self, message: Any) -> None:
        remaining = float(message.remaining)  # 0..1, -1 unknown
        self.loop.battery(remaining * 100.0 if remaining >= 0.0 else None)


class MavrosAdapter(LinkAdapter):
    """MAVROS: setpoint_position/local, state, extended_state, pose, battery, and the
    arming, set_mode, takeoff and command services (async: never blocking a callback)."""

    SERVICES = {'arming': 'CommandBool', 'set_mode': 'SetMode', 'takeoff': 'CommandTOL',
                'command': 'CommandLong'}

    def __init__(self, node: Any, config: VehicleLinkConfig, loop: Any, group: Any,
                 guard: Guard) -> None:
        super().__init__(node, config, loop, group, guard)
        msg = importlib.import_module('mavros_msgs.msg')
        srv = importlib.import_module('mavros_msgs.srv')
        self.wire = MavrosWire(config.autopilot)
        names = config.mavros_topics.names()
        self._setpoint_pub = self._publisher(PoseStamped, names['setpoint'],
                                             MAVROS_SETPOINT_QOS)
        self._clients = {}
        for role, kind in self.SERVICES.items():
            service = getattr(srv, kind)
            client = node.create_client(service, names[role], callback_group=group)
            self._entities.append((node.destroy_client, client))
            self._clients[role] = (service, client)
        self._subscription(msg.State, names['state'], self._on_state, MAVROS_IN_QOS)
        self._subscription(msg.ExtendedState, names['extended_state'], self._on_extended,
                           MAVROS_IN_QOS)
        self._subscription(PoseStamped, names['local_pose'], self._on_pose, MAVROS_IN_QOS)
        self._subscription(BatteryState, names['battery'], self._on_battery, MAVROS_IN_QOS)

    def _put(self, out: LinkOutput, now: float) -> None:
        pose = self.wire.setpoint(out)
        if pose is not None:
            message = fill(PoseStamped(), {'pose': pose})
            message.header.stamp = self.node.get_clock().now().to_msg()
            message.header.frame_id = 'map'
            self._setpoint_pub.publish(message)
        for command, call in self.wire.calls(out):
            service, client = self._clients[call.role]
            future = client.call_async(fill(service.Request(), call.request))
            future.add_done_callback(
                lambda done, command=command: self._on_response(command, done))

    def _on_response(self, command: LinkCommand, future: Any) -> None:
        try:
            result = future.result()
        except Exception:  # noqa: BLE001 - a failed call is an unanswered command
            result = None
        with self._lock:
            ack = self.wire.response(command, None if result is None else to_dict(result))
        if ack is not None:
            self._on_link_output(lambda now: self.link.on_ack(now, ack))

    def _on_state(self, message: Any) -> None:
        status = self.wire.status(to_dict(message))
        self._on_link_output(lambda now: self.link.on_status(now, status))

    def _on_extended(self, message: Any) -> None:
        with self._lock:
            self.wire.extended_state(to_dict(message))
            state = int(message.landed_state)
            self._landed = None if state == LANDED_STATE_UNDEFINED \
                else state == LANDED_STATE_ON_GROUND

    def _on_pose(self, message: PoseStamped) -> None:
        p, q = message.pose.position, message.pose.orientation
        position = pose_from_mavros({'position': {'x': p.x, 'y': p.y, 'z': p.z}},
                                    self.wire.origin)
        self._pose(position, heading_from_quaternion(q.x, q.y, q.z, q.w))

    def _on_battery(self, message: BatteryState) -> None:
        self.loop.battery(battery_percent(message.percentage))


ADAPTERS = {PX4: Px4Adapter, MAVROS: MavrosAdapter}


def make_adapter(node: Any, config: VehicleLinkConfig, loop: Any, group: Any,
                 guard: Guard) -> LinkAdapter:
    """The adapter for `config.interface` (px4 or mavros); its message package must import
    (check `missing_message_package` first)."""
    return ADAPTERS[config.interface](node, config, loop, group, guard)
