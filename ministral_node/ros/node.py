"""The ROS 2 adapter: a lifecycle node around the decision pipeline.

It declares the parameters, owns QoS, topics, timers and diagnostics, and calls the core.
Publishers, subscriptions and timers are created in `on_configure`; decision sources in
`on_activate` (models load there and are freed in `on_deactivate`). Inputs that arrive while
inactive are counted and reported, not decided.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import PoseStamped
from rcl_interfaces.msg import (
    FloatingPointRange,
    IntegerRange,
    ParameterDescriptor,
    ParameterType,
    SetParametersResult,
)
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.exceptions import ParameterUninitializedException
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from rclpy.parameter import Parameter
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import BatteryState, CompressedImage, Image
from std_msgs.msg import Header, String

from ministral_node import parameters
from ministral_node.camera import EncodedFrame, LatestFrame
from ministral_node.commands import CommandError, decode_string_message
from ministral_node.decision import Proposal, to_json
from ministral_node.health import ERROR, LEVEL_NAMES, OK, STALE, WARN, HealthBoard
from ministral_node.image_conversion import CompressedImageData, ImageError, RawImage
from ministral_node.pipeline import DecisionPipeline
from ministral_node.sources.base import Decider
from ministral_node.sources.factory import build_sources, close_sources, configure_sources
from ministral_node.timing import Clock, MonotonicClock
from ministral_node.vehicle import VehicleState, battery_percent, heading_from_quaternion
from ministral_node.watchdog import FailsafeEscalation, LinkMonitor, LinkState, RateMonitor

_ROS_TYPES = {
    'bool': ParameterType.PARAMETER_BOOL,
    'int': ParameterType.PARAMETER_INTEGER,
    'float': ParameterType.PARAMETER_DOUBLE,
    'str': ParameterType.PARAMETER_STRING,
    'str_list': ParameterType.PARAMETER_STRING_ARRAY,
    'float_list': ParameterType.PARAMETER_DOUBLE_ARRAY,
}


def descriptor(spec: parameters.ParamSpec) -> ParameterDescriptor:
    """The ROS parameter descriptor for a declared parameter (type, range, choices)."""
    when = {parameters.ON_CONFIGURE: ' Applies at the next configure.',
            parameters.ON_ACTIVATE: ' Applies at the next activate.'}.get(spec.applies, '')
    result = ParameterDescriptor(name=spec.name, type=_ROS_TYPES[spec.kind],
                                 description=spec.description + when)
    if spec.choices:
        result.additional_constraints = 'one of: ' + ', '.join(spec.choices)
    if spec.minimum is not None and spec.maximum is not None:
        if spec.kind == 'int':
            result.integer_range = [IntegerRange(from_value=int(spec.minimum),
                                                 to_value=int(spec.maximum), step=0)]
        elif spec.kind in ('float', 'float_list'):
            result.floating_point_range = [FloatingPointRange(
                from_value=float(spec.minimum), to_value=float(spec.maximum), step=0.0)]
    return result


class RosLogHandler(logging.Handler):
    """Forwards the core's Python logging to the node's ROS logger."""

    def __init__(self, ros_logger: Any) -> None:
        super().__init__()
        self._ros_logger = ros_logger

    def emit(self, record: logging.LogRecord) -> None:
        message = self.format(record)
        if record.levelno >= logging.ERROR:
            self._ros_logger.error(message)
        elif record.levelno >= logging.WARNING:
            self._ros_logger.warning(message)
        elif record.levelno >= logging.INFO:
            self._ros_logger.info(message)
        else:
            self._ros_logger.debug(message)


class RosClock:
    """The node's ROS clock (sim time aware) as a core `Clock`, for decision stamps."""

    def __init__(self, node: LifecycleNode) -> None:
        self._node = node

    def now(self) -> float:
        return self._node.get_clock().now().nanoseconds / 1e9


@dataclass
class _Pending:
    """A command waiting for its decision."""

    text: str
    received: float


class MinistralNode(LifecycleNode):
    """Lifecycle node: camera + commands in, decisions, status and diagnostics out."""

    def __init__(self, node_name: str = parameters.NODE_NAME, *, clock: Clock | None = None,
                 **kwargs: Any) -> None:
        super().__init__(node_name, **kwargs)
        self._logging = RosLogHandler(self.get_logger())
        logging.getLogger('ministral_node').addHandler(self._logging)
        logging.getLogger('ministral_node').setLevel(logging.INFO)
        for spec in parameters.PARAMETERS:
            default = spec.default
            if isinstance(default, list) and not default:
                default = Parameter.Type.STRING_ARRAY if spec.kind == 'str_list' \
                    else Parameter.Type.DOUBLE_ARRAY
            self.declare_parameter(spec.name, default, descriptor(spec))
        self.values = parameters.validate({n: self._read(n) for n in parameters.names()})
        self.add_on_set_parameters_callback(self._on_set_parameters)

        self.clock = clock or MonotonicClock()
        self.health = HealthBoard(self.clock)
        self.frames = LatestFrame(int(self.values['max_image_pixels']))
        self.link = LinkMonitor(self.clock, self.values['link_loss_timeout_s'])
        self.escalation = FailsafeEscalation(self.clock, self.values['failsafe_action'],
                                             self.values['failsafe_hold_s'])
        self.camera_rate = RateMonitor(self.clock, self.values['camera_expected_rate_hz'])
        self.state_label = 'unconfigured'
        self.decisions_published = 0
        self.last_decision: dict | None = None
        self.vehicle = VehicleState()
        self._pending: deque[_Pending] = deque()
        self._failsafes: deque[tuple[Proposal, str]] = deque()
        self._lock = threading.Lock()
        self._busy = False
        self._frames_received = 0
        self._pipeline: DecisionPipeline | None = None
        self._sources: list[Decider] = []
        self._subscriptions: list[Any] = []
        self._camera_group = MutuallyExclusiveCallbackGroup()
        self._command_group = MutuallyExclusiveCallbackGroup()
        self._decision_group = MutuallyExclusiveCallbackGroup()
        self._output_group = MutuallyExclusiveCallbackGroup()
        self._watchdog_group = MutuallyExclusiveCallbackGroup()
        self._decision_pub = self._status_pub = self._diagnostics_pub = None
        self._timers: list[Any] = []
        self._wake = None

    # Parameters

    def _read(self, name: str) -> Any:
        try:
            return self.get_parameter(name).value
        except ParameterUninitializedException:
            return parameters.SPECS[name].default

    def _on_set_parameters(self, changes: list[Parameter]) -> SetParametersResult:
        try:
            updated = parameters.with_changes(self.values, {p.name: p.value for p in changes})
        except parameters.ParameterError as exc:
            return SetParametersResult(successful=False, reason=str(exc))
        self.values = updated
        self.frames.max_pixels = int(updated['max_image_pixels'])
        self.link.loss_timeout_s = updated['link_loss_timeout_s']
        self.camera_rate.expected_hz = updated['camera_expected_rate_hz']
        self.escalation.configure(updated['failsafe_action'], updated['failsafe_hold_s'])
        if self._pipeline is not None:
            self._pipeline.apply_params(updated)
        configure_sources(self._sources, updated)
        return SetParametersResult(successful=True)

    # Lifecycle

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._decision_pub = self.create_lifecycle_publisher(String, '~/decision', 10)
        # Status and diagnostics also report while inactive, so they are plain publishers.
        self._status_pub = self.create_publisher(String, '~/status', 10)
        self._diagnostics_pub = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        self._timers = [
            self.create_timer(1.0 / self.values['status_rate_hz'], self._publish_status,
                              self._output_group),
            self.create_timer(self.values['diagnostics_period_s'], self._publish_diagnostics,
                              self._output_group),
            self.create_timer(0.1, self._supervise, self._watchdog_group),
        ]
        self._wake = self.create_guard_condition(self._drain_commands, self._decision_group)
        self._subscribe()
        self.health.set('camera', WARN, 'waiting for frames')
        self.health.set('link', WARN, 'no ground-station heartbeat yet')
        self.state_label = 'inactive'
        self.get_logger().info('configured')
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._sources = build_sources(self.values, self.health)
        self._pipeline = DecisionPipeline.from_params(
            self.values, self._sources, self.frames, self.clock, RosClock(self), self.health,
            lambda: self.vehicle)
        self._pipeline.chain.skip = self._skip_source
        self.state_label = 'active'
        self.get_logger().info(
            f'active: sources {[s.source for s in self._sources]} then failsafe; camera '
            f'{self.values["camera_transport"]} ({self.values["camera_reliability"]})')
        return super().on_activate(state)

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._release_sources()
        self.state_label = 'inactive'
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._unsubscribe()
        self._teardown()
        self.state_label = 'unconfigured'
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._unsubscribe()
        self._release_sources()
        self._teardown()
        self.state_label = 'finalized'
        return TransitionCallbackReturn.SUCCESS

    def on_error(self, state: LifecycleState) -> TransitionCallbackReturn:
        self.get_logger().error(f'error in state {state.label}; cleaning up')
        self._unsubscribe()
        self._release_sources()
        self._teardown()
        self.state_label = 'unconfigured'
        return TransitionCallbackReturn.SUCCESS

    def destroy_node(self) -> None:
        logging.getLogger('ministral_node').removeHandler(self._logging)
        super().destroy_node()

    def _release_sources(self) -> None:
        close_sources(self._sources)
        self._sources = []
        self._pipeline = None

    def _subscribe(self) -> None:
        reliability = (ReliabilityPolicy.RELIABLE if self.values['camera_reliability'] ==
                       'reliable' else ReliabilityPolicy.BEST_EFFORT)
        camera_qos = QoSProfile(depth=1, history=HistoryPolicy.KEEP_LAST,
                                reliability=reliability)
        if self.values['camera_transport'] == 'compressed':
            camera = self.create_subscription(CompressedImage, 'image_raw/compressed',
                                              self._on_compressed, camera_qos,
                                              callback_group=self._camera_group)
        else:
            camera = self.create_subscription(Image, 'image_raw', self._on_image, camera_qos,
                                              callback_group=self._camera_group)
        command = self.create_subscription(String, '~/command', self._on_command, 10,
                                           callback_group=self._command_group, raw=True)
        state_qos = QoSProfile(depth=1, history=HistoryPolicy.KEEP_LAST,
                               reliability=ReliabilityPolicy.BEST_EFFORT)
        pose = self.create_subscription(PoseStamped, 'pose', self._on_pose, state_qos,
                                        callback_group=self._camera_group)
        battery = self.create_subscription(BatteryState, 'battery', self._on_battery,
                                           state_qos, callback_group=self._camera_group)
        heartbeat = self.create_subscription(Header, 'ground_heartbeat', self._on_heartbeat, 10,
                                             callback_group=self._watchdog_group)
        self._subscriptions = [camera, command, pose, battery, heartbeat]

    def _unsubscribe(self) -> None:
        for subscription in self._subscriptions:
            self.destroy_subscription(subscription)
        self._subscriptions = []

    def _teardown(self) -> None:
        for timer in self._timers:
            self.destroy_timer(timer)
        self._timers = []
        if self._wake is not None:
            self.destroy_guard_condition(self._wake)
            self._wake = None
        for publisher in (self._decision_pub, self._status_pub, self._diagnostics_pub):
            if publisher is not None:
                self.destroy_publisher(publisher)
        self._decision_pub = self._status_pub = self._diagnostics_pub = None

    # Camera

    def _on_image(self, msg: Image) -> None:
        raw = RawImage(msg.width, msg.height, msg.encoding, msg.step, memoryview(msg.data),
                       bool(msg.is_bigendian))
        self._store_frame(raw, msg.header)

    def _on_compressed(self, msg: CompressedImage) -> None:
        self._store_frame(CompressedImageData(msg.format, memoryview(msg.data)), msg.header)

    def _store_frame(self, data: RawImage | CompressedImageData, header: Any) -> None:
        if self._pipeline is None:  # inactive: frames are not kept
            return
        received = self.clock.now()
        stamp = header.stamp.sec + header.stamp.nanosec * 1e-9
        try:
            self.frames.store(EncodedFrame(data, stamp, header.frame_id, received))
        except ImageError as exc:
            self.get_logger().error(f'camera frame rejected: {exc}', throttle_duration_sec=2.0)
            self.health.error('camera', f'frame rejected: {exc}')
            return
        self._frames_received += 1
        self.camera_rate.tick()

    # Watchdog

    def _on_heartbeat(self, msg: Header) -> None:
        change = self.link.heartbeat()
        if change is None:
            return
        if change.old is LinkState.LOST:
            self.get_logger().info(f'ground link regained after {change.silent_s:.1f} s')
        else:
            self.get_logger().info(f'ground link up (heartbeat from {msg.frame_id or "?"})')
        self.escalation.clear()
        self.health.set('link', OK, 'up', heartbeats=self.link.heartbeats)

    def _skip_source(self, source: str) -> str | None:
        if source == 'remote' and self.link.state is LinkState.LOST:
            return 'ground link lost'
        return None

    def _supervise(self) -> None:
        """10 Hz: link loss and failsafe escalation, camera rate and staleness."""
        change = self.link.update()
        if change is not None:
            self.get_logger().error(
                f'ground link lost: no heartbeat for {change.silent_s:.1f} s '
                f'(link_loss_timeout_s={self.link.loss_timeout_s:g})')
            self.health.set('link', ERROR, f'lost: no heartbeat for {change.silent_s:.1f} s')
            self.escalation.link_lost(change.silent_s)
        if self._pipeline is not None:
            with self._lock:
                busy = self._busy or bool(self._pending) or bool(self._failsafes)
            proposal = self.escalation.due(busy)
            if proposal is not None:
                with self._lock:
                    self._failsafes.append((proposal, proposal.rationale))
                self._wake.trigger()
        self._camera_health()

    def _camera_health(self) -> None:
        age = self.camera_rate.last_age_s()
        rate = self.camera_rate.rate_hz()
        expected = self.camera_rate.expected_hz
        values = {'frames': self._frames_received, 'rate_hz': f'{rate:.1f}',
                  'expected_rate_hz': f'{expected:g}'}
        if age is None:
            self.health.set('camera', WARN, 'waiting for frames', **values)
        elif age > self.values['max_frame_age_s']:
            self.health.set('camera', STALE, f'no frame for {age:.1f} s', **values)
        elif expected > 0 and rate < 0.5 * expected:
            self.health.set('camera', WARN, f'{rate:.1f} Hz, expected {expected:g} Hz',
                            **values)
        else:
            self.health.set('camera', OK, f'{rate:.1f} Hz', **values)

    # Vehicle state (local ENU pose with its origin at home, battery)

    def _on_pose(self, msg: PoseStamped) -> None:
        p, q = msg.pose.position, msg.pose.orientation
        heading = heading_from_quaternion(q.x, q.y, q.z, q.w)
        self.vehicle = self.vehicle.with_pose(p.x, p.y, p.z, heading, self.clock.now())
        self.health.set('vehicle', OK, 'pose and battery' if self.vehicle.battery_pct is not None
                        else 'pose', altitude_m=f'{p.z:.1f}')

    def _on_battery(self, msg: BatteryState) -> None:
        self.vehicle = self.vehicle.with_battery(battery_percent(msg.percentage),
                                                 self.clock.now())
        self.health.values('vehicle', battery_pct=self.vehicle.battery_pct)

    # Commands and decisions

    def _on_command(self, payload: bytes) -> None:
        pipeline = self._pipeline
        if pipeline is None:
            message = f'command received while {self.state_label}; not decided (activate the node)'
            self.get_logger().warning(message)
            self.health.error('command', message)
            return
        received = self.clock.now()
        try:
            text = decode_string_message(payload)
        except CommandError as exc:
            self._publish_decision(pipeline.refuse(str(exc), received=received))
            return
        with self._lock:
            self._pending.append(_Pending(text, received))
            depth = self.values['command_queue_depth']
            dropped = self._pending.popleft() if len(self._pending) > depth else None
        if dropped is not None:
            # Answered at once (refusals are thread-safe): the operator should not wait for
            # the decision in progress to learn the command was dropped.
            self._publish_decision(pipeline.refuse(
                f'dropped unanswered: {depth} newer commands were already waiting '
                f'(command_queue_depth={depth})', text=dropped.text, received=dropped.received))
        self._wake.trigger()

    def _next_pending(self) -> _Pending | tuple[Proposal, str] | None:
        with self._lock:
            queue = self._failsafes or self._pending
            if not queue:
                self._busy = False
                return None
            self._busy = True
            return queue.popleft()

    def _drain_commands(self) -> None:
        while (item := self._next_pending()) is not None:
            pipeline = self._pipeline
            if pipeline is None:
                self.get_logger().error('node deactivated with a command waiting; not decided')
                continue
            if isinstance(item, tuple):
                decision = pipeline.failsafe(*item)
            else:
                decision = pipeline.decide(item.text, received=item.received)
            self._publish_decision(decision)

    def _publish_decision(self, decision: dict) -> None:
        self._decision_pub.publish(String(data=to_json(decision)))
        with self._lock:
            self.decisions_published += 1
            self.last_decision = decision
        command = decision['command'] or {}
        self.get_logger().info(
            f'decision {decision["action"]} {json.dumps(decision["params"])} by '
            f'{decision["source"]} in {decision["latency_ms"]:.0f} ms for '
            f'{command.get("text", "")[:80]!r}')

    # Status and diagnostics

    def status(self) -> dict:
        """The heartbeat published on ~/status."""
        now = self.clock.now()
        newest = self.frames.newest()
        last = self.last_decision
        with self._lock:
            queued, busy = len(self._pending), self._busy
        return {
            'stamp': RosClock(self).now(),
            'node': self.get_fully_qualified_name(),
            'state': self.state_label,
            'busy': busy,
            'queued_commands': queued,
            'sources': [s.source for s in self._sources] + ['failsafe'],
            'decisions_published': self.decisions_published,
            'last_decision': None if last is None else {
                'id': last['id'], 'action': last['action'], 'source': last['source'],
                'latency_ms': last['latency_ms'], 'stamp': last['stamp']},
            'camera': {'transport': self.values['camera_transport'],
                       'frames_received': self._frames_received,
                       'rate_hz': round(self.camera_rate.rate_hz(), 2),
                       'newest_frame_age_s': None if newest is None else
                       round(now - newest.received, 3)},
            'link': {'state': self.link.state.value, 'silent_s': self.link.silent_s(),
                     'failsafe_active': self.escalation.active},
            'health': {h.name: LEVEL_NAMES[h.level] for h in self.health.snapshot()},
        }

    def _publish_status(self) -> None:
        if self._status_pub is not None:
            self._status_pub.publish(String(data=json.dumps(self.status())))

    def _publish_diagnostics(self) -> None:
        if self._diagnostics_pub is None:
            return
        array = DiagnosticArray()
        array.header.stamp = self.get_clock().now().to_msg()
        name = self.get_name()
        for health in self.health.snapshot():
            array.status.append(DiagnosticStatus(
                level=bytes([health.level]), name=f'{name}: {health.name}',
                message=health.message[:500], hardware_id=name,
                values=[KeyValue(key=k, value=v[:500]) for k, v in health.values.items()]))
        self._diagnostics_pub.publish(array)
