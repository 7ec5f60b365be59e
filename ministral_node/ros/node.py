"""The ROS 2 adapter: a lifecycle node wiring topics, timers and parameters to the core.

Everything that decides lives in `DecisionLoop` (ROS-free); this module declares parameters,
validates them, owns QoS, publishers, subscriptions, timers and diagnostics, and converts
messages. The `~/command` subscription and the `~/decision` publisher live as long as the node,
so every command is answered in every state (decisions while active, refusals saying why
otherwise, "node unconfigured" before configure); the other publishers, subscriptions and
timers are created in `on_configure`; decision sources are loaded in `on_activate` and freed in
`on_deactivate`, after the running decision and every waiting command are answered.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import sys
import threading
import traceback
from collections.abc import Callable
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import Point, PoseStamped
from rcl_interfaces.msg import (
    FloatingPointRange,
    IntegerRange,
    ParameterDescriptor,
    SetParametersResult,
)
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.clock import Clock as RclpyClock
from rclpy.clock import ClockType
from rclpy.exceptions import (
    InvalidParameterTypeException,
    InvalidParameterValueException,
    ParameterUninitializedException,
)
from rclpy.impl.implementation_singleton import rclpy_implementation as _rclpy
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from rclpy.logging import LoggingSeverity
from rclpy.parameter import Parameter
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from rclpy.task import Future
from rosgraph_msgs.msg import Clock as ClockMsg
from sensor_msgs.msg import BatteryState, CameraInfo, CompressedImage, Image
from std_msgs.msg import ColorRGBA, Header, String
from visualization_msgs.msg import ImageMarker

from ministral_node import parameters
from ministral_node.core.decision_loop import ACTIVE, DecisionLoop, unconfigured_refusal
from ministral_node.core.settings import Settings
from ministral_node.decision import Decision
from ministral_node.health import WARN
from ministral_node.inputs.image_conversion import CompressedImageData, RawImage
from ministral_node.inputs.vehicle import battery_percent, heading_from_quaternion
from ministral_node.mission.executor import ExecutorOutput
from ministral_node.perception.service import Scene, scene_dict
from ministral_node.recording.annotations import (
    decision_marker,
    detection_markers,
    fill_message,
    remove_marker,
)
from ministral_node.recording.recorder import Recorder, RecorderSettings, recording_metadata
from ministral_node.ros import typed
from ministral_node.ros.events import NO_PUBLISHER_EVENTS, NO_SUBSCRIPTION_EVENTS
from ministral_node.timing import Clock, MonotonicClock
from ministral_node.vehicle_link.config import JSON, VehicleLinkConfig, missing_message_package

# Exit code of the node process when its parameters are refused (as `ministral-node`).
EXIT_BAD_PARAMETERS = 2
# Exit code when vehicle_interface needs a message package this machine lacks.
EXIT_MISSING_PACKAGE = 3


def descriptor(spec: parameters.ParamSpec) -> ParameterDescriptor:
    """The ROS parameter descriptor for a declared parameter (range, choices).

    Parameters are dynamically typed for rclpy, so a wrong type reaches our validation (one
    message for every way a value arrives) instead of an exception inside rclpy; the type
    is stated in the description.
    """
    when = {parameters.ON_CONFIGURE: ' Applies at the next configure.',
            parameters.ON_ACTIVATE: ' Applies at the next activate.'}.get(spec.applies, '')
    result = ParameterDescriptor(name=spec.name, dynamic_typing=True,
                                 description=f'{spec.description}{when} ({spec.kind})')
    if spec.choices:
        result.additional_constraints = 'one of: ' + ', '.join(spec.choices)
    if spec.minimum is not None and spec.maximum is not None:
        if spec.kind in ('int', 'int_list'):
            result.integer_range = [IntegerRange(from_value=int(spec.minimum),
                                                 to_value=int(spec.maximum), step=0)]
        elif spec.kind in ('float', 'float_list'):
            result.floating_point_range = [FloatingPointRange(
                from_value=float(spec.minimum), to_value=float(spec.maximum), step=0.0)]
    return result


# Per-decision and per-command lines go through the core's path (RosLogHandler): the ROS
# logger's own calls look their caller up on every call.
log = logging.getLogger(__name__)


class RosLogHandler(logging.Handler):
    """Forwards the core's Python logging to the node's ROS logger (console and /rosout).

    The record already knows where it was logged, so it goes straight to rcutils with that
    caller: the ROS logger's own `log()` looks its caller up with `inspect` (source files read,
    paths resolved) on every call, which names this handler instead of the core's line and, in a
    process whose other threads keep the GIL busy, took seconds, holding up the watchdog that
    logged a link loss (seen flying the simulator: a failsafe 4-6 s late)."""

    SEVERITIES = ((logging.ERROR, LoggingSeverity.ERROR), (logging.WARNING, LoggingSeverity.WARN),
                  (logging.INFO, LoggingSeverity.INFO), (logging.NOTSET, LoggingSeverity.DEBUG))

    def __init__(self, ros_logger: Any) -> None:
        super().__init__()
        self._ros_logger = ros_logger
        self._rcutils_log = getattr(_rclpy, 'rclpy_logging_rcutils_log', None)

    def emit(self, record: logging.LogRecord) -> None:
        severity = next(s for level, s in self.SEVERITIES if record.levelno >= level)
        logger = self._ros_logger
        if not logger.is_enabled_for(severity):
            return
        message = self.format(record)
        if self._rcutils_log is None:  # an rclpy without the call: its public, slower path
            logger.log(message, severity)
            return
        self._rcutils_log(severity, logger.name, message, record.funcName, record.pathname,
                          record.lineno)


class RosClock:
    """The node's ROS clock (simulation time under `use_sim_time`) as a core `Clock`."""

    def __init__(self, node: LifecycleNode) -> None:
        self._node = node

    def now(self) -> float:
        return self._node.get_clock().now().nanoseconds / 1e9


class MinistralNode(LifecycleNode):
    """Lifecycle node: camera + commands in, decisions, status and diagnostics out."""

    def __init__(self, node_name: str = parameters.NODE_NAME, *, clock: Clock | None = None,
                 **kwargs: Any) -> None:
        super().__init__(node_name, **kwargs)
        self._log_handler = RosLogHandler(self.get_logger())
        self._offline = False  # the middleware is gone (finish after Ctrl-C): publish nothing
        self._json_vehicle_lock = threading.Lock()
        logging.getLogger('ministral_node').addHandler(self._log_handler)
        logging.getLogger('ministral_node').setLevel(logging.INFO)
        self._parameter_problems = self._declare_parameters()
        self.add_on_set_parameters_callback(self._on_set_parameters)
        self.done: Future = Future()  # result: the process exit code
        self.settings: Settings | None = None
        self.loop: DecisionLoop | None = None
        self._state_clock = clock
        self._groups = {name: MutuallyExclusiveCallbackGroup()
                        for name in ('camera', 'command', 'decision', 'output', 'watchdog',
                                     'executor', 'detector', 'autopilot')}
        self._decision_pub = self._status_pub = self._diagnostics_pub = None
        self._setpoint_pub = self._vehicle_command_pub = self._mission_pub = None
        self._annotations_pub = None
        self._detections_pub = self._detection_markers_pub = None
        # Typed twins of the JSON outputs and the command action (ministral_interfaces): off,
        # with one log line and a WARN in diagnostics, when the package is not installed.
        self._typed_msg, typed_action, self._typed_missing = typed.load()
        self._decision_msg_pub = self._status_msg_pub = self._mission_status_pub = None
        self.command_action = None
        self.vehicle_link = None  # the PX4 / MAVROS adapter (vehicle_interface px4, mavros)
        self.recorder: Recorder | None = None
        self._record_topics: dict[str, str] = {}
        self._inputs: list[Any] = []
        self._periodic: list[Any] = []
        self._wake_condition = None
        self._camera_sub = None
        self._command_sub = None
        self._answer_commands(self._history_depth())
        if self._typed_msg is None:
            self.get_logger().warning(self._typed_missing)
        else:
            from ministral_node.ros.command_action import CommandActionServer

            self.command_action = CommandActionServer(self, self._typed_msg, typed_action,
                                                      self._publish_decision, RosClock(self))

    # Parameters

    def _declare_parameters(self) -> list[str]:
        """Declare every parameter; overrides rclpy refuses become problems (reported at
        configure), and so do overrides with names we do not declare."""
        problems = []
        for spec in parameters.PARAMETERS:
            default = spec.default if spec.default != [] else None
            try:
                self.declare_parameter(spec.name, default, descriptor(spec))
            except (InvalidParameterTypeException, InvalidParameterValueException) as exc:
                given = self._overrides().get(spec.name)
                problems.append(f'{spec.name}: {given.value if given else "?"!r} refused: '
                                f'{exc}')
                self.declare_parameter(spec.name, default, descriptor(spec),
                                       ignore_override=True)
        problems.extend(parameters.unknown(name) for name in self._overrides()
                        if name not in parameters.SPECS and not parameters.is_ros_own(name))
        return problems

    def _overrides(self) -> dict[str, Parameter]:
        # rclpy keeps the overrides it was given (params files, -p, launch) only here.
        return getattr(self, '_parameter_overrides', {})

    def _read(self, name: str) -> Any:
        try:
            value = self.get_parameter(name).value
        except ParameterUninitializedException:
            value = None
        return parameters.SPECS[name].default if value is None else value

    def parameter_problems(self) -> list[str]:
        """Every problem of the node's parameters, one line each (empty when they are fine)."""
        values = {name: self._read(name) for name in parameters.names()}
        return [*self._parameter_problems, *parameters.problems(values)]

    def _on_set_parameters(self, changes: list[Parameter]) -> SetParametersResult:
        if self.settings is None:  # not configured: checked as a whole at configure
            found = parameters.problems({p.name: p.value for p in changes
                                         if p.name in parameters.SPECS})
            return SetParametersResult(successful=not found, reason='; '.join(found))
        try:
            updated = self.settings.with_changes({p.name: p.value for p in changes
                                                  if p.name in parameters.SPECS})
        except parameters.ParameterError as exc:
            return SetParametersResult(successful=False, reason=str(exc).replace('\n', '; '))
        self.settings = updated
        if self.loop is not None:
            self.loop.apply(updated)
        if self.recorder is not None:
            self.recorder.configure(updated.values)
        return SetParametersResult(successful=True)

    def _subscribe_to(self, *args: Any, **kwargs: Any) -> Any:
        """`create_subscription` without QoS event handlers (see NO_SUBSCRIPTION_EVENTS)."""
        return self.create_subscription(*args, event_callbacks=NO_SUBSCRIPTION_EVENTS, **kwargs)

    def _publisher(self, *args: Any, **kwargs: Any) -> Any:
        """`create_publisher` without QoS event handlers (see NO_SUBSCRIPTION_EVENTS)."""
        return self.create_publisher(*args, event_callbacks=NO_PUBLISHER_EVENTS, **kwargs)

    # Lifecycle

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        problems = self.parameter_problems()
        if problems:
            for line in problems:
                self.get_logger().error(f'parameter refused: {line}')
            self.get_logger().error(f'configure failed: {len(problems)} parameter problem(s)')
            if not self.done.done():
                self.done.set_result(EXIT_BAD_PARAMETERS)
            return TransitionCallbackReturn.FAILURE
        settings = Settings.from_values(
            {name: self._read(name) for name in parameters.names()})
        link_config = VehicleLinkConfig.from_params(settings.values)
        missing = missing_message_package(link_config.interface)
        if missing and settings.values['execute_missions']:
            self.get_logger().error(f'configure failed: {missing}')
            if not self.done.done():
                self.done.set_result(EXIT_MISSING_PACKAGE)
            return TransitionCallbackReturn.FAILURE
        self.settings = settings
        values = self.settings.values
        sim_time = bool(self.get_parameter('use_sim_time').value)
        ros_clock = RosClock(self)
        state_clock = self._state_clock or (ros_clock if sim_time else MonotonicClock())
        self._answer_commands(values['command_history_depth'])
        # Status and diagnostics also report while inactive.
        self._status_pub = self._publisher(String, '~/status', 10)
        if self._typed_msg is not None:
            self._status_msg_pub = self._publisher(self._typed_msg.NodeStatus, '~/status_msg', 10)
        self._diagnostics_pub = self._publisher(DiagnosticArray, '/diagnostics', 10)
        self._annotations_pub = self._publisher(ImageMarker, '~/annotations', 10)
        self._detections_pub = self._publisher(String, '~/detections', 10)
        self._detection_markers_pub = self._publisher(ImageMarker, '~/detection_markers', 10)
        self._wake_condition = self.create_guard_condition(
            self._guard('decision', self._drain), self._groups['decision'])
        self.loop = DecisionLoop(self.settings, state_clock, self._publish_decision,
                                 wake=self._wake_condition.trigger, steady=MonotonicClock(),
                                 stamp_clock=ros_clock, sim_time=sim_time,
                                 execute=self._publish_execution,
                                 detections=self._publish_detections)
        if self._typed_missing:
            self.loop.health.set('typed_interfaces', WARN,
                                 self._typed_missing)
        # Timers run on the steady clock: status and the watchdog keep going (and say so)
        # when a simulation's /clock stops.
        steady = RclpyClock(clock_type=ClockType.STEADY_TIME)
        self._periodic = [
            self.create_timer(1.0 / values['status_rate_hz'],
                              self._guard('status', self._publish_status),
                              self._groups['output'], clock=steady),
            self.create_timer(values['diagnostics_period_s'],
                              self._guard('diagnostics', self._publish_diagnostics),
                              self._groups['output'], clock=steady),
            self.create_timer(0.1, self._guard('watchdog', self._supervise),
                              self._groups['watchdog'], clock=steady),
        ]
        if values['detector_rate_hz'] > 0:
            # Its own exclusive group: a detection never holds up the camera or a decision.
            self._periodic.append(self.create_timer(
                1.0 / values['detector_rate_hz'], self._guard('detector', self.loop.detect),
                self._groups['detector'], clock=steady))
        if values['execute_missions']:
            # The setpoint stream keeps its rate in the vehicle's time: simulated time when a
            # simulator runs faster than real time (the watchdog above stays steady, to notice
            # a /clock that stops).
            if link_config.interface != JSON:
                from ministral_node.ros.vehicle_link import make_adapter
                self.vehicle_link = make_adapter(self, link_config, self.loop,
                                                 self._groups['autopilot'], self._guard)
                link = self.vehicle_link
                self.loop.vehicle_refusal = link.refusal
                self.loop.vehicle_resume = lambda: link.resume()[1]
            self._start_executing(values, self.get_clock() if sim_time else steady)
        self._subscribe(values)
        self._start_recorder(values, sim_time)
        executing = f', executing missions through {link_config.interface}' \
            if values['execute_missions'] else ''
        self.get_logger().info(f'configured ({"simulation" if sim_time else "steady"} clock'
                               f'{executing})')
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        result = super().on_activate(state)
        self.loop.activate()
        values = self.settings.values
        self.get_logger().info(
            f'active: sources {[s.source for s in self.loop.sources]} then failsafe; camera '
            f'{values["camera_transport"]} ({values["camera_reliability"]})')
        return result

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        # Answers the running decision and every waiting command, then frees the models.
        self.loop.deactivate('node deactivating')
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._teardown()
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        if self.loop is not None:
            self.loop.shutdown()
        self._teardown()
        return TransitionCallbackReturn.SUCCESS

    def on_error(self, state: LifecycleState) -> TransitionCallbackReturn:
        self.get_logger().error(f'error in state {state.label}; cleaning up')
        if self.loop is not None:
            self.loop.deactivate('node error')
        self._teardown()
        return TransitionCallbackReturn.SUCCESS

    def finish(self) -> None:
        """Stop for good outside the lifecycle (the process exits, e.g. on Ctrl-C): answer
        what still waits while the middleware can, free the models, close the recording.
        After Ctrl-C the middleware is already gone: the last outputs (a mission's abort) are
        then only recorded, and a decision still owed is logged to the terminal."""
        self._offline = not self.context.ok()
        if self.loop is not None:
            try:
                self.loop.shutdown()
            except Exception as exc:  # noqa: BLE001 - the context may already be gone
                self.get_logger().warning(f'shutdown: {type(exc).__name__}: {exc}')
        if self.recorder is not None:
            self.recorder.close()
            self.recorder = None

    def destroy_node(self) -> None:
        logging.getLogger('ministral_node').removeHandler(self._log_handler)
        if self.command_action is not None:
            self.command_action.destroy()
            self.command_action = None
        super().destroy_node()

    def _history_depth(self) -> int:
        """`command_history_depth` as given, or its default when refused (reported at
        configure)."""
        spec = parameters.SPECS['command_history_depth']
        try:
            return int(spec.check(self._read(spec.name)))
        except parameters.ParameterError:
            return int(spec.default)

    def _answer_commands(self, depth: int) -> None:
        """The `~/command` subscription and `~/decision` publisher, at `depth` (made again only
        when a configure changes it). Plain, not lifecycle: every command that arrives is
        answered in every state, refused with the reason when not deciding."""
        if self._decision_pub is not None and self._decision_pub.qos_profile.depth == depth:
            return
        if self._command_sub is not None:
            self.destroy_subscription(self._command_sub)
            self.destroy_publisher(self._decision_pub)
            if self._decision_msg_pub is not None:
                self.destroy_publisher(self._decision_msg_pub)
        qos = QoSProfile(depth=depth, reliability=ReliabilityPolicy.RELIABLE)
        self._decision_pub = self._publisher(String, '~/decision', qos)
        if self._typed_msg is not None:
            self._decision_msg_pub = self._publisher(self._typed_msg.Decision, '~/decision_msg',
                                                     qos)
        self._command_sub = self._subscribe_to(
            String, '~/command', self._guard('command', self._on_command),
            QoSProfile(depth=depth, history=HistoryPolicy.KEEP_LAST,
                       reliability=ReliabilityPolicy.RELIABLE),
            callback_group=self._groups['command'], raw=True)

    def _subscribe(self, values: dict) -> None:
        reliability = (ReliabilityPolicy.RELIABLE if values['camera_reliability'] == 'reliable'
                       else ReliabilityPolicy.BEST_EFFORT)
        camera_qos = QoSProfile(depth=1, history=HistoryPolicy.KEEP_LAST,
                                reliability=reliability)
        camera = self._groups['camera']
        if values['camera_transport'] == 'compressed':
            self._camera_sub = self._subscribe_to(
                CompressedImage, 'image_raw/compressed',
                self._guard('camera', self._on_compressed), camera_qos, callback_group=camera)
        else:
            self._camera_sub = self._subscribe_to(
                Image, 'image_raw', self._guard('camera', self._on_image), camera_qos,
                callback_group=camera)
        state_qos = QoSProfile(depth=1, history=HistoryPolicy.KEEP_LAST,
                               reliability=ReliabilityPolicy.BEST_EFFORT)
        self._inputs.append(self._camera_sub)
        # The intrinsics place mission targets and give scene answers their distances. Best
        # effort matches both a camera driver's sensor QoS and a reliable publisher.
        info_qos = QoSProfile(depth=1, history=HistoryPolicy.KEEP_LAST,
                              reliability=ReliabilityPolicy.BEST_EFFORT)
        self._inputs.append(self._subscribe_to(
            CameraInfo, 'camera_info', self._guard('camera', self._on_camera_info), info_qos,
            callback_group=camera))
        if self.vehicle_link is None:  # else pose and battery come from the autopilot
            self._inputs += [
                self._subscribe_to(PoseStamped, 'pose', self._guard('vehicle', self._on_pose),
                                   state_qos, callback_group=camera),
                self._subscribe_to(BatteryState, 'battery',
                                   self._guard('vehicle', self._on_battery), state_qos,
                                   callback_group=camera)]
        self._inputs += [
            self._subscribe_to(Header, 'ground_heartbeat',
                                     self._guard('link', self._on_heartbeat), 10,
                                     callback_group=self._groups['watchdog']),
        ]

    def _start_executing(self, values: dict, clock: RclpyClock) -> None:
        """Publishers and timers (on `clock`) of the mission executor
        (json: setpoint_position and ~/vehicle_command; px4, mavros: the vehicle link's)."""
        if self.vehicle_link is None:
            self._setpoint_pub = self._publisher(PoseStamped, 'setpoint_position', 10)
            self._vehicle_command_pub = self._publisher(
                String, '~/vehicle_command', QoSProfile(depth=100,
                                                        reliability=ReliabilityPolicy.RELIABLE))
        self._mission_pub = self._publisher(String, '~/mission', 10)
        if self._typed_msg is not None:
            self._mission_status_pub = self._publisher(self._typed_msg.MissionStatus,
                                                       '~/mission_status', 10)
        self._periodic += [
            self.create_timer(1.0 / values['setpoint_rate_hz'],
                              self._guard('executor', self._execute_tick),
                              self._groups['executor'], clock=clock),
            self.create_timer(1.0 / values['mission_status_rate_hz'],
                              self._guard('executor', self._publish_mission_status),
                              self._groups['executor'], clock=clock),
        ]

    def _start_recorder(self, values: dict, sim_time: bool) -> None:
        """The flight recorder, when `record_dir` is set (a failure to start is a WARN on
        `recorder` in /diagnostics; the node goes on)."""
        settings = RecorderSettings.from_params(values)
        if not settings.enabled:
            return
        camera = ('image_raw/compressed' if values['camera_transport'] == 'compressed'
                  else 'image_raw')
        roles = {'camera': camera, 'command': '~/command', 'decision': '~/decision',
                 'status': '~/status', 'mission': '~/mission', 'annotations': '~/annotations',
                 'detections': '~/detections', 'detection_markers': '~/detection_markers',
                 'pose': 'pose', 'battery': 'battery', 'heartbeat': 'ground_heartbeat',
                 'diagnostics': '/diagnostics', 'clock': '/clock'}
        self._record_topics = {role: self.resolve_topic_name(name)
                               for role, name in roles.items()}
        self.recorder = Recorder(settings, self.loop.clock, self.loop.health,
                                 metadata=recording_metadata(values, self._record_topics))
        self.recorder.start()
        if sim_time:
            self._inputs.append(self._subscribe_to(
                ClockMsg, '/clock',
                self._guard('recorder', lambda m: self._record('clock', 'rosgraph_msgs/msg/Clock',
                                                               m)),
                10, callback_group=self._groups['watchdog']))

    def _record(self, role: str, msgtype: str, message: Any, **options: bool) -> None:
        recorder = self.recorder
        if recorder is not None:
            recorder.record(self._record_topics[role], msgtype, message,
                            self.get_clock().now().nanoseconds, **options)

    def _execute_tick(self) -> None:
        """The setpoint timer: the executor's update, then the vehicle link's tick."""
        self.loop.execute()
        link = self.vehicle_link
        if link is not None and self.loop.state == ACTIVE:
            link.tick()

    def _teardown(self) -> None:
        if self.vehicle_link is not None:
            self.vehicle_link.close()
            self.vehicle_link = None
        if self.recorder is not None:
            self.recorder.close()  # writes the last file and its metadata
            self.recorder = None
        for subscription in self._inputs:
            self.destroy_subscription(subscription)
        for timer in self._periodic:
            self.destroy_timer(timer)
        self._inputs, self._periodic, self._camera_sub = [], [], None
        if self._wake_condition is not None:
            self.destroy_guard_condition(self._wake_condition)
            self._wake_condition = None
        for publisher in (self._status_pub, self._diagnostics_pub, self._setpoint_pub,
                          self._vehicle_command_pub, self._mission_pub, self._annotations_pub,
                          self._status_msg_pub, self._mission_status_pub,
                          self._detections_pub, self._detection_markers_pub):
            if publisher is not None:
                self.destroy_publisher(publisher)
        self._status_pub = self._diagnostics_pub = None
        self._status_msg_pub = self._mission_status_pub = None
        self._setpoint_pub = self._vehicle_command_pub = self._mission_pub = None
        self._annotations_pub = None
        self._detections_pub = self._detection_markers_pub = None
        self.loop = None
        self.settings = None

    def _guard(self, component: str, callback: Callable[..., None]) -> Callable[..., None]:
        """`callback` that turns an unexpected exception into a logged traceback and an ERROR
        in diagnostics, so one bad message never stops the node."""

        @functools.wraps(callback)
        def guarded(*args: Any) -> None:
            try:
                callback(*args)
            except Exception as exc:  # noqa: BLE001 - the guard of last resort
                self.get_logger().error(
                    f'{component} callback failed: {type(exc).__name__}: {exc}\n'
                    f'{traceback.format_exc()}')
                loop = self.loop
                if loop is not None:
                    loop.health.error(component, f'callback failed: {type(exc).__name__}: {exc}')
        return guarded

    # Messages

    def _on_command(self, payload: bytes) -> None:
        self._record('command', 'std_msgs/msg/String', payload, flush_images=True)
        loop = self.loop
        if loop is None:
            self._publish_decision(unconfigured_refusal(payload, RosClock(self)))
            return
        loop.command(payload)

    def _on_image(self, msg: Image) -> None:
        self._record('camera', 'sensor_msgs/msg/Image', msg)
        raw = RawImage(msg.width, msg.height, msg.encoding, msg.step, memoryview(msg.data),
                       bool(msg.is_bigendian))
        self._store_frame(raw, msg.header)

    def _on_compressed(self, msg: CompressedImage) -> None:
        self._record('camera', 'sensor_msgs/msg/CompressedImage', msg)
        self._store_frame(CompressedImageData(msg.format, memoryview(msg.data)), msg.header)

    def _store_frame(self, data: RawImage | CompressedImageData, header: Header) -> None:
        stamp = header.stamp.sec + header.stamp.nanosec * 1e-9
        error = self.loop.frame(data, stamp, header.frame_id)
        if error is not None:
            self.get_logger().error(f'camera frame rejected: {error}',
                                    throttle_duration_sec=2.0)

    def _on_pose(self, msg: PoseStamped) -> None:
        self._record('pose', 'geometry_msgs/msg/PoseStamped', msg)
        p, q = msg.pose.position, msg.pose.orientation
        self.loop.pose(p.x, p.y, p.z, heading_from_quaternion(q.x, q.y, q.z, q.w))

    def _on_battery(self, msg: BatteryState) -> None:
        self._record('battery', 'sensor_msgs/msg/BatteryState', msg)
        self.loop.battery(battery_percent(msg.percentage))

    def _on_heartbeat(self, msg: Header) -> None:
        self._record('heartbeat', 'std_msgs/msg/Header', msg)
        self.loop.heartbeat(msg.frame_id)

    def _on_camera_info(self, msg: CameraInfo) -> None:
        self.loop.camera_info(list(msg.k), msg.width, msg.height)

    def _publish_execution(self, out: ExecutorOutput) -> None:
        """Publish what the mission executor says: status, then setpoint and vehicle commands
        (json, or through the vehicle link: a link that aborts the mission at once publishes
        `aborted` after this output's own statuses, never before them)."""
        if self._mission_pub is not None:
            for status in out.statuses:
                self._publish_mission(status)
        link = self.vehicle_link
        if link is not None and not self._offline:
            link.execute(out)
        if self._setpoint_pub is not None or self._vehicle_command_pub is not None:
            self._publish_json_vehicle(out)

    def _publish_json_vehicle(self, out: ExecutorOutput) -> None:
        """vehicle_interface json: the setpoint and the vehicle commands, stamped with one
        reading of the node's clock (a command's `stamp`, in seconds, is the clock of the
        setpoint's header), so a bridge drops a setpoint stamped before the last mode command:
        the two topics do not keep each other's order. An output that stopped being current
        (its mission ended since it was computed) is not published at all, as on the link."""
        with self._json_vehicle_lock:
            if self.loop is not None and not self.loop.current(out):
                log.info('vehicle output of an ended mission dropped')
                return
            now = self.get_clock().now()
            if out.setpoint is not None and self._setpoint_pub is not None:
                pose = PoseStamped()
                pose.header.stamp = now.to_msg()
                pose.header.frame_id = 'map'
                point = out.setpoint  # numbers from a decision may be JSON integers
                pose.pose.position.x, pose.pose.position.y = float(point.x), float(point.y)
                pose.pose.position.z = float(point.z)
                pose.pose.orientation.z = math.sin(float(point.yaw) / 2.0)
                pose.pose.orientation.w = math.cos(float(point.yaw) / 2.0)
                self._send(self._setpoint_pub, pose)
            if self._vehicle_command_pub is not None:
                for command in out.commands:
                    text = json.dumps({**command, 'stamp': now.nanoseconds / 1e9})
                    self._send(self._vehicle_command_pub, String(data=text))
                    log.info('vehicle command %s', text)

    def _publish_mission_status(self) -> None:
        status = self.loop.mission_status() if self.loop is not None else None
        if status is not None and self._mission_pub is not None:
            self._publish_mission(status)

    def _publish_mission(self, status: dict) -> None:
        message = String(data=json.dumps(status))
        self._send(self._mission_pub, message)
        self._record('mission', 'std_msgs/msg/String', message)
        if self._mission_status_pub is not None:
            self._send(self._mission_status_pub,
                       typed.mission_status_message(self._typed_msg, status))
        if self.command_action is not None:
            self.command_action.mission(status)

    def _send(self, publisher: Any, message: Any) -> None:
        """Publish, unless the middleware is gone (`finish` after Ctrl-C)."""
        if not self._offline:
            publisher.publish(message)

    def _supervise(self) -> None:
        camera, loop = self._camera_sub, self.loop
        if loop is not None:
            loop.supervise(camera.get_publisher_count() if camera is not None else 0,
                           camera.topic_name if camera is not None else 'image_raw')

    def _drain(self) -> None:
        loop = self.loop
        if loop is not None:
            loop.drain()

    def _publish_decision(self, decision: Decision) -> None:
        if self.command_action is not None:  # the goal waiting for it, after it is published
            try:
                self._publish_decision_topics(decision)
            finally:
                self.command_action.decided(decision)
            return
        self._publish_decision_topics(decision)

    def _publish_decision_topics(self, decision: Decision) -> None:
        publisher = self._decision_pub
        text = '' if decision.command is None else decision.command.text
        summary = (f'{decision.action} {json.dumps(decision.params)} by '
                   f'{decision.source} in {decision.latency_ms:.0f} ms for {text[:80]!r}')
        if publisher is None:  # cleaned up meanwhile: the loop logged the refusal
            self.get_logger().warning(f'decision not published (node unconfigured): {summary}')
            return
        message = String(data=decision.to_json())
        self._record('decision', 'std_msgs/msg/String', message)
        if self._offline:  # nobody can hear it now; the terminal still says it
            print(f'ministral-node: decision not published (middleware gone): {summary}',
                  file=sys.stderr)
            return
        publisher.publish(message)
        if self._decision_msg_pub is not None:
            self._decision_msg_pub.publish(typed.decision_message(self._typed_msg, decision))
        self._publish_annotation(decision)
        log.info('decision %s', summary)

    def _publish_annotation(self, decision: Decision) -> None:
        """The decision's target box as an ImageMarker on ~/annotations (a decision without
        a box clears the previous one)."""
        if self._annotations_pub is None:
            return
        fields = decision_marker(decision)
        if fields is None:
            fields = remove_marker(self.get_clock().now().nanoseconds / 1e9)
        self._annotations_pub.publish(fill_message(
            ImageMarker(), fields, {'points': Point, 'outline_colors': ColorRGBA}))
        self._record('annotations', 'visualization_msgs/msg/ImageMarker', fields)

    def _publish_detections(self, scene: Scene) -> None:
        """One scene of the detector (a decision's frame or the `detector_rate_hz` timer) as
        JSON on ~/detections and its boxes as ImageMarkers on ~/detection_markers."""
        publisher, markers = self._detections_pub, self._detection_markers_pub
        loop = self.loop
        if publisher is None or self._offline or loop is None:
            return
        fields = scene_dict(scene)
        message = String(data=json.dumps(fields))
        publisher.publish(message)
        self._record('detections', 'std_msgs/msg/String', message)
        if markers is None:
            return
        for marker in detection_markers(fields):
            markers.publish(fill_message(ImageMarker(), marker,
                                         {'points': Point, 'outline_colors': ColorRGBA}))
            self._record('detection_markers', 'visualization_msgs/msg/ImageMarker', marker)

    # Status and diagnostics

    def status(self) -> dict:
        """The heartbeat published on ~/status."""
        loop, settings = self.loop, self.settings
        if loop is None or settings is None:
            return {'node': self.get_fully_qualified_name(), 'state': 'unconfigured'}
        link = self.vehicle_link
        return loop.status(self.get_fully_qualified_name(),
                           vehicle_link=link.status() if link is not None else None)

    def _publish_status(self) -> None:
        if self._status_pub is not None and self.loop is not None:
            status = self.status()
            message = String(data=json.dumps(status))
            self._status_pub.publish(message)
            self._record('status', 'std_msgs/msg/String', message)
            if self._status_msg_pub is not None:
                self._status_msg_pub.publish(typed.node_status_message(self._typed_msg, status))

    def _publish_diagnostics(self) -> None:
        if self._diagnostics_pub is None or self.loop is None:
            return
        array = DiagnosticArray()
        array.header.stamp = self.get_clock().now().to_msg()
        name = self.get_name()
        for health in self.loop.health.snapshot():
            array.status.append(DiagnosticStatus(
                level=bytes([health.level]), name=f'{name}: {health.name}',
                message=health.message[:500], hardware_id=name,
                values=[KeyValue(key=k, value=v[:500]) for k, v in health.values.items()]))
        self._diagnostics_pub.publish(array)
        self._record('diagnostics', 'diagnostic_msgs/msg/DiagnosticArray', array)
