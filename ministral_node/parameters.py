"""Every tunable of the node, declared once: name, default, description, range.

The ROS adapter declares these as parameters with descriptors, the CLI loads the same YAML
file through `load_params_file`, and the launch-file test checks launch files against them.
"""

from __future__ import annotations

import difflib
from array import array
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from ministral_node.decision import actions
from ministral_node.geometry import point_in_polygon, polygon_from_flat, polygon_problem

NODE_NAME = 'ministral_node'
Value = bool | int | float | str | list

# When a change takes effect.
LIVE = 'live'
ON_CONFIGURE = 'configure'
ON_ACTIVATE = 'activate'


# Parameters rclpy itself takes; a params file or override may name them besides ours.
ROS_OWN = ('use_sim_time', 'start_type_description_service')


def is_ros_own(name: str) -> bool:
    """Whether `name` is one of rclpy's own parameters (not ours to validate)."""
    return name in ROS_OWN or name.startswith('qos_overrides.')


class ParameterError(ValueError):
    """A parameter value, or a parameters file, is not acceptable."""


@dataclass(frozen=True)
class ParamSpec:
    """One declared parameter."""

    name: str
    default: Value
    description: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    applies: str = LIVE
    list_of: str = 'str'  # item type of a list parameter: 'str', 'int' or 'float'

    @property
    def kind(self) -> str:
        """One of bool, int, float, str, str_list, float_list."""
        if isinstance(self.default, bool):
            return 'bool'
        if isinstance(self.default, int):
            return 'int'
        if isinstance(self.default, float):
            return 'float'
        if isinstance(self.default, str):
            return 'str'
        return f'{self.list_of}_list'

    def coerce(self, value: Any) -> Value:
        """`value` as this parameter's type (ints accepted for floats), else ParameterError."""
        kind = self.kind
        if kind == 'bool' and isinstance(value, bool):
            return value
        if kind == 'int' and isinstance(value, int) and not isinstance(value, bool):
            return value
        if kind == 'float' and isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if kind == 'str' and isinstance(value, str):
            return value
        if kind == 'str_list' and isinstance(value, (list, tuple)) and all(
                isinstance(v, str) for v in value):
            return list(value)
        # rclpy gives integer arrays as array('q')
        if kind == 'int_list' and isinstance(value, (list, tuple, array)) and all(
                isinstance(v, int) and not isinstance(v, bool) for v in value):
            return list(value)
        if kind == 'float_list' and isinstance(value, (list, tuple)) and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            return [float(v) for v in value]
        raise ParameterError(f'{self.name}: expected {kind}, got {value!r}')

    def check(self, value: Any) -> Value:
        """The coerced value if it is in range and allowed, else ParameterError with a reason."""
        value = self.coerce(value)
        items = value if isinstance(value, list) else [value]
        for item in items:
            if self.minimum is not None and item < self.minimum:
                raise ParameterError(f'{self.name}: {item} is below the minimum {self.minimum}')
            if self.maximum is not None and item > self.maximum:
                raise ParameterError(f'{self.name}: {item} is above the maximum {self.maximum}')
            if self.choices and item not in self.choices:
                raise ParameterError(
                    f'{self.name}: {item!r} is not one of {", ".join(self.choices)}')
        return value


SOURCE_CHOICES = ('remote', 'onboard', 'rules')
# Actions a command can trigger as a reflex (obeyed at once, ahead of the model).
REFLEX_CHOICES = ('stop', 'hold', 'land', 'return_to_home', 'resume')

PARAMETERS: tuple[ParamSpec, ...] = (
    ParamSpec('autostart', True,
              'Configure and activate on start (ministral-node); set false when a lifecycle '
              'manager drives the transitions.', applies=ON_CONFIGURE),
    # Inputs
    ParamSpec('camera_transport', 'raw',
              'Subscribe to image_raw (sensor_msgs/Image) or image_raw/compressed '
              '(sensor_msgs/CompressedImage).', choices=('raw', 'compressed'),
              applies=ON_CONFIGURE),
    ParamSpec('camera_reliability', 'best_effort',
              'QoS reliability of the camera subscription (depth is always 1).',
              choices=('best_effort', 'reliable'), applies=ON_CONFIGURE),
    ParamSpec('max_frame_age_s', 1.0,
              'Frames older than this are not used; the decision says it had no fresh image.',
              minimum=0.01, maximum=60.0),
    ParamSpec('max_image_pixels', 40_000_000,
              'Frames larger than this many pixels are refused (memory guard).',
              minimum=1, maximum=200_000_000),
    ParamSpec('max_command_chars', 2000,
              'Longer commands are rejected rather than parsed.', minimum=1, maximum=100_000),
    ParamSpec('command_queue_depth', 4,
              'Commands waiting while a decision is being made; beyond this the oldest waiting '
              'command is rejected.', minimum=1, maximum=100),
    ParamSpec('reflexes', list(REFLEX_CHOICES),
              'Commands obeyed at once, ahead of the queue and the model: a command the rule '
              'parser reads completely as one of these (no target, negation, condition or '
              'other action) cancels the running decision, answers the waiting commands as '
              'superseded, preempts the mission and is published within milliseconds. '
              '`resume` (e.g. "resume", "reprends la main") takes the control back after an '
              'autopilot takeover and holds there. Empty or [none]: off.',
              choices=(*REFLEX_CHOICES, 'none')),
    ParamSpec('reflex_hold_keeps_queue', False,
              'A `hold` reflex leaves the waiting commands queued instead of superseding '
              'them (the running decision is still cancelled).'),
    ParamSpec('command_history_depth', 1000,
              'Depth of the reliable ~/command subscription and ~/decision publisher: a burst '
              'this large is received whole and every command answered (queued or rejected).',
              minimum=10, maximum=100_000, applies=ON_CONFIGURE),
    # Deciding
    ParamSpec('decision_sources', ['onboard', 'rules'],
              'Decision sources, tried in order; the failsafe always comes last.',
              choices=SOURCE_CHOICES),
    ParamSpec('decision_timeout_s', 10.0,
              'Deadline for one decision, from command receipt to publication.',
              minimum=0.05, maximum=300.0),
    ParamSpec('remote_timeout_s', 4.0,
              'Deadline of the remote (ground-station) model within a decision.',
              minimum=0.05, maximum=300.0),
    ParamSpec('onboard_timeout_s', 8.0,
              'Deadline of the onboard model within a decision.', minimum=0.05, maximum=300.0),
    ParamSpec('rules_timeout_s', 1.0,
              'Deadline of the rule-based parser within a decision.', minimum=0.05,
              maximum=60.0),
    ParamSpec('breaker_failures', 3,
              'Consecutive failures after which a source is skipped for breaker_cooldown_s.',
              minimum=1, maximum=1000),
    ParamSpec('breaker_cooldown_s', 30.0,
              'How long a source with an open circuit breaker is skipped before a retry.',
              minimum=0.1, maximum=3600.0),
    ParamSpec('arbitration', 'verify',
              'When the rule parser reads a command fully and a model reads it otherwise: '
              'verify takes the rule reading (another action, direction or numbers), the '
              'model for visual/target commands of the same action (docs/arbitration.md); '
              'model_first or rules_first always take that side.',
              choices=('verify', 'model_first', 'rules_first')),
    ParamSpec('rules_fast_path', True,
              'With arbitration verify: a command the rule parser reads completely (full '
              'confidence, no target, no question) is decided by it at once, without waiting '
              'for the model, whose reading verification would not take over it (measured on '
              'the evaluation sets: the model changed none of them).'),
    ParamSpec('min_confidence', 0.5,
              'A model proposal whose measured confidence (token probabilities) is below this '
              'hands over to the next source; 0 disables the check.', minimum=0.0,
              maximum=1.0),
    ParamSpec('min_confidence_unread', 0.8,
              'When the rule parser finds no action in a command (gibberish, a typo it cannot '
              'read), a model proposal needs at least this measured confidence; when its '
              'reading is partial (a word ignored), a model reading that differs wins only '
              'with this confidence; 0 disables the check.', minimum=0.0, maximum=1.0),
    ParamSpec('min_box_confidence', 0.05,
              'A target box whose measured confidence is below this is published as null, '
              'with a note; 0 keeps every box.', minimum=0.0, maximum=1.0),
    # Watchdog
    ParamSpec('link_loss_timeout_s', 10.0,
              'The ground link is lost after this long without a heartbeat (PX4 COM_DL_LOSS_T).',
              minimum=0.1, maximum=600.0),
    ParamSpec('failsafe_action', 'return_to_home',
              'After link loss: hold at once, then this after failsafe_hold_s; none disables '
              'the link-loss failsafe.', choices=('hold', 'return_to_home', 'land', 'none')),
    ParamSpec('failsafe_hold_s', 5.0,
              'How long to hold after link loss before failsafe_action (PX4 COM_FAIL_ACT_T).',
              minimum=0.0, maximum=600.0),
    ParamSpec('camera_expected_rate_hz', 10.0,
              'Expected camera rate; below half of it the camera shows WARN. 0 disables the '
              'rate check.', minimum=0.0, maximum=1000.0),
    # Outputs
    ParamSpec('status_rate_hz', 2.0, 'Rate of the ~/status heartbeat.', minimum=2.0,
              maximum=50.0, applies=ON_CONFIGURE),
    ParamSpec('diagnostics_period_s', 1.0, 'Period of /diagnostics messages.', minimum=0.1,
              maximum=60.0, applies=ON_CONFIGURE),
    # Flight recorder
    ParamSpec('record_dir', '',
              "Directory for flight recordings (MCAP, ROS 2 CDR; one folder per run); '' "
              'records nothing. A full disk or an unwritable directory stops recording with '
              'WARN in /diagnostics; decisions go on.', applies=ON_CONFIGURE),
    ParamSpec('record_image_rate_hz', 2.0,
              'Camera frames recorded per second (JPEG, sensor_msgs/CompressedImage); the frame '
              'a command is decided on is always kept, losslessly (PNG). 0 records no frames.',
              minimum=0.0, maximum=100.0),
    ParamSpec('record_split_mib', 1024.0,
              'A recording file is closed and the next one started at this size.',
              minimum=1.0, maximum=1_000_000.0, applies=ON_CONFIGURE),
    ParamSpec('record_split_s', 600.0,
              'A recording file is closed and the next one started after this long.',
              minimum=1.0, maximum=86_400.0, applies=ON_CONFIGURE),
    ParamSpec('record_queue_depth', 256,
              'Messages waiting for the recorder thread; beyond this they are dropped and '
              'counted (recording never delays a decision).', minimum=1, maximum=100_000,
              applies=ON_CONFIGURE),
    # Safety envelope
    ParamSpec('min_altitude_m', 2.0,
              'Lowest altitude above home a takeoff, altitude change or goto may command.',
              minimum=0.0, maximum=10_000.0),
    ParamSpec('max_altitude_m', 120.0,
              'Highest altitude above home any decision may command (120 m: the usual '
              'regulatory ceiling).', minimum=0.5, maximum=10_000.0),
    ParamSpec('max_horizontal_speed_mps', 12.0,
              'Highest cruise speed set_speed may command (PX4 MPC_XY_VEL_MAX).',
              minimum=0.1, maximum=100.0),
    ParamSpec('max_vertical_speed_mps', 3.0,
              'Highest climb or descent rate, for the setpoint executor (PX4 MPC_Z_VEL_MAX_UP); '
              'no decision field carries a vertical speed.', minimum=0.1, maximum=20.0),
    ParamSpec('geofence_max_distance_m', 500.0,
              'Horizontal distance from home no goto, orbit or search may leave.',
              minimum=1.0, maximum=100_000.0),
    ParamSpec('geofence_polygon', [],
              'Optional fence polygon as a flat list x0,y0,x1,y1,... of metres east and north '
              'of home: at least 3 vertices, not self-intersecting, containing home. Empty: '
              'only the distance limit applies.', minimum=-100_000.0, maximum=100_000.0,
              list_of='float'),
    ParamSpec('geofence_margin_m', 2.0,
              'A goto shortened at the fence stops this far before the boundary; orbits and '
              'searches keep this far inside it.', minimum=0.0, maximum=1000.0),
    ParamSpec('max_leg_without_position_m', 10.0,
              'Without a fresh vehicle position, horizontal moves (goto legs, orbit and search '
              'radii) are limited to this; 0 refuses them.', minimum=0.0, maximum=1000.0),
    ParamSpec('allowed_actions', list(actions()),
              'Actions decisions may carry; others are rejected. stop, answer, clarify and '
              'reject are always allowed.', choices=actions()),
    ParamSpec('confirm_actions', [],
              'Actions held until the operator confirms (e.g. takeoff); none by default. '
              'Actions that make the vehicle safer (stop, hold, return_to_home) never wait.',
              choices=('takeoff', 'land', 'goto', 'change_altitude', 'set_speed', 'rotate',
                       'orbit', 'follow', 'search', 'capture_photo')),
    ParamSpec('confirmation_timeout_s', 30.0,
              'How long an action waits for the operator to confirm before it expires.',
              minimum=1.0, maximum=600.0),
    ParamSpec('min_battery_takeoff_pct', 30.0,
              'Takeoff is refused below this battery percentage.', minimum=0.0, maximum=100.0),
    ParamSpec('min_battery_mission_pct', 20.0,
              'Below this battery percentage, moves away from home or upwards are refused and '
              'return_to_home is recommended (above PX4 BAT_LOW_THR, 15 %).',
              minimum=0.0, maximum=100.0),
    ParamSpec('min_orbit_radius_m', 5.0, 'Smallest orbit radius.', minimum=0.5,
              maximum=10_000.0),
    ParamSpec('max_orbit_radius_m', 100.0, 'Largest orbit radius.', minimum=0.5,
              maximum=10_000.0),
    ParamSpec('min_follow_distance_m', 3.0, 'Closest a follow may keep to its target.',
              minimum=0.5, maximum=10_000.0),
    ParamSpec('default_follow_distance_m', 10.0,
              'Follow distance used when a decision gives none.', minimum=0.5,
              maximum=10_000.0),
    ParamSpec('max_follow_distance_m', 50.0, 'Farthest a follow may keep from its target.',
              minimum=0.5, maximum=10_000.0),
    ParamSpec('default_search_radius_m', 30.0,
              'Search radius used when a decision gives none.', minimum=1.0, maximum=10_000.0),
    ParamSpec('max_search_radius_m', 200.0, 'Largest search radius.', minimum=1.0,
              maximum=10_000.0),
    ParamSpec('max_mission_steps', 8,
              'Most steps a mission may have (the contract allows 16); longer missions are '
              'refused with a reason, never cut.', minimum=2, maximum=16),
    ParamSpec('pose_timeout_s', 1.0,
              'A vehicle pose older than this counts as unknown.', minimum=0.05, maximum=60.0),
    ParamSpec('battery_timeout_s', 10.0,
              'A battery reading older than this counts as unknown.', minimum=0.1,
              maximum=600.0),
    # Mission executor
    ParamSpec('execute_missions', False,
              'Run published decisions as missions: fly them through vehicle_interface '
              '(json: setpoint_position and ~/vehicle_command; px4 or mavros: the autopilot '
              'directly). Off: decide only, another program flies.', applies=ON_CONFIGURE),
    ParamSpec('setpoint_rate_hz', 20.0,
              'Rate of setpoint_position while a motion step runs (PX4 offboard needs >= 2 Hz).',
              minimum=10.0, maximum=100.0, applies=ON_CONFIGURE),
    ParamSpec('mission_status_rate_hz', 2.0,
              'Rate of the ~/mission status (also sent on every change).', minimum=2.0,
              maximum=50.0, applies=ON_CONFIGURE),
    ParamSpec('arrival_tolerance_m', 1.0,
              'A position step is reached within this horizontal distance.', minimum=0.05,
              maximum=50.0),
    ParamSpec('altitude_tolerance_m', 0.5,
              'An altitude is reached within this.', minimum=0.05, maximum=20.0),
    ParamSpec('yaw_tolerance_deg', 5.0, 'A heading is reached within this.', minimum=0.5,
              maximum=90.0),
    ParamSpec('landed_altitude_m', 0.3,
              'Below this altitude a landing counts as done (or when the pose says landed).',
              minimum=0.0, maximum=5.0),
    ParamSpec('photo_interval_s', 1.0, 'Time between the photos of one capture_photo step.',
              minimum=0.05, maximum=60.0),
    ParamSpec('default_speed_mps', 5.0,
              'Cruise speed the executor assumes until a set_speed step (for step timeouts '
              'and orbits).', minimum=0.1, maximum=100.0),
    ParamSpec('yaw_rate_deg_s', 30.0, 'Yaw rate the executor assumes for step timeouts.',
              minimum=1.0, maximum=360.0),
    ParamSpec('step_timeout_factor', 2.0,
              'A step times out after factor x (distance / speed + climb / vertical speed + '
              'turn / yaw rate) + step_timeout_margin_s (+ hold or photo time).',
              minimum=1.0, maximum=20.0),
    ParamSpec('step_timeout_margin_s', 10.0, 'Added to every step timeout.', minimum=0.0,
              maximum=600.0),
    ParamSpec('camera_mount_pitch_deg', 45.0,
              'Camera pitch below the horizon (0 ahead, 90 straight down), to place targets.',
              minimum=-30.0, maximum=90.0),
    ParamSpec('camera_mount_forward_m', 0.0, 'Camera offset ahead of the vehicle origin.',
              minimum=-5.0, maximum=5.0),
    ParamSpec('camera_mount_right_m', 0.0, 'Camera offset right of the vehicle origin.',
              minimum=-5.0, maximum=5.0),
    ParamSpec('camera_mount_up_m', 0.0, 'Camera offset above the vehicle origin.',
              minimum=-5.0, maximum=5.0),
    ParamSpec('max_projection_distance_m', 300.0,
              'A target placed farther than this from the camera is refused.', minimum=1.0,
              maximum=5000.0),
    # Vehicle link (docs/vehicle_link.md)
    ParamSpec('vehicle_interface', 'json',
              'How missions reach the autopilot: json (setpoint_position and ~/vehicle_command '
              'JSON for your own bridge), px4 (PX4 uXRCE-DDS topics, px4_msgs) or mavros '
              '(MAVROS topics and services, mavros_msgs); px4 and mavros run the offboard '
              'handshake.', choices=('json', 'px4', 'mavros'), applies=ON_CONFIGURE),
    ParamSpec('autopilot', 'px4',
              'Autopilot behind MAVROS, for its mode names: px4 (OFFBOARD, AUTO.LAND, AUTO.RTL, '
              'AUTO.LOITER) or ardupilot (GUIDED, LAND, RTL, BRAKE; takes off by cmd/takeoff).',
              choices=('px4', 'ardupilot'), applies=ON_CONFIGURE),
    ParamSpec('px4_namespace', '/fmu',
              'Prefix of the PX4 topics (/fmu; /px4_1/fmu for a second vehicle).',
              applies=ON_CONFIGURE),
    ParamSpec('px4_version', '1.16',
              'PX4 release the topics follow: 1.16 reads /fmu/out/vehicle_status_v1, 1.15 '
              '/fmu/out/vehicle_status.', choices=('1.15', '1.16'), applies=ON_CONFIGURE),
    ParamSpec('mavros_namespace', '/mavros', 'Prefix of the MAVROS topics and services.',
              applies=ON_CONFIGURE),
    ParamSpec('offboard_priming_s', 1.2,
              'Setpoints and the proof of life stream this long before offboard is asked '
              '(PX4 grants it after more than 1 s).', minimum=1.0, maximum=10.0,
              applies=ON_CONFIGURE),
    ParamSpec('autopilot_ack_timeout_s', 1.0,
              'A mode, arming or takeoff request unanswered this long is sent again.',
              minimum=0.1, maximum=10.0, applies=ON_CONFIGURE),
    ParamSpec('autopilot_max_attempts', 3,
              'Requests sent per handshake step before the mission aborts with the reason.',
              minimum=1, maximum=10, applies=ON_CONFIGURE),
    ParamSpec('autopilot_status_timeout_s', 1.0,
              'No autopilot status for this long: the link is lost, the mission aborts and '
              'streaming stops (PX4 then meets COM_OF_LOSS_T).', minimum=0.2, maximum=30.0,
              applies=ON_CONFIGURE),
    # Onboard model
    ParamSpec('model_dir', 'models/ministral-3-drone-demo',
              'Onboard model directory in the published ONNX layout; a relative path is taken '
              "in the package share directory when it is there (models/<name>); '' uses the "
              "package's models/ministral-3-3b (scripts/fetch_model). Default: the shipped "
              'demo model.',
              applies=ON_ACTIVATE),
    ParamSpec('decoder_variant', 'q4',
              'Decoder file: q4 (decoder_model_merged_q4.onnx, float32 activations) or q4f16 '
              '(float16 activations and KV cache, for GPUs).',
              choices=('q4', 'q4f16', 'fp16', 'fp32'), applies=ON_ACTIVATE),
    ParamSpec('vision_variant', 'q4', 'Vision encoder file variant (vision_encoder_<v>.onnx).',
              choices=('q4', 'q4f16', 'fp16', 'fp32'), applies=ON_ACTIVATE),
    ParamSpec('embed_variant', 'fp16', 'Token embedding file variant (embed_tokens_<v>.onnx).',
              choices=('fp16', 'q4', 'fp32'), applies=ON_ACTIVATE),
    ParamSpec('execution_providers', ['cuda', 'cpu'],
              'ONNX Runtime execution providers in order of preference; those this '
              'onnxruntime lacks are skipped and CPU is always the last resort.',
              choices=('tensorrt', 'cuda', 'cpu'), applies=ON_ACTIVATE),
    ParamSpec('intra_op_threads', 0,
              'Threads inside one ONNX Runtime operator; 0 lets onnxruntime use every core.',
              minimum=0, maximum=64, applies=ON_ACTIVATE),
    ParamSpec('inter_op_threads', 1, 'Threads across independent operators.',
              minimum=1, maximum=16, applies=ON_ACTIVATE),
    ParamSpec('max_new_tokens', 1024,
              'Most tokens one model decision (onboard or remote) may generate; the JSON '
              'constraint always finishes the decision within it (a mission needs about 400 '
              'more than a single action).', minimum=192, maximum=4096),
    ParamSpec('temperature', 0.0,
              'Sampling temperature of the models (onboard and remote); 0 is greedy.',
              minimum=0.0, maximum=2.0),
    ParamSpec('top_p', 1.0, 'Nucleus sampling mass (used when temperature > 0).',
              minimum=0.01, maximum=1.0),
    ParamSpec('seed', -1, 'Sampling seed; -1 draws a new one for every decision.',
              minimum=-1, maximum=2**31 - 1),
    ParamSpec('max_image_edge', 448,
              'Camera frames are shrunk so their longest side is at most this many pixels '
              'before the vision encoder (latency: image tokens grow with its square).',
              minimum=28, maximum=1540),
    ParamSpec('prefix_cache', True,
              "Reuse the KV cache of the constant system-prompt prefix across decisions."),
    # Output budget: caps on the free text the onboard model writes (decode time is mostly
    # free text; the grammar forces the JSON keys and punctuation). Applied to the generation
    # schema when the constraint is compiled (constrained.string_caps).
    ParamSpec('max_rationale_chars', 80,
              'Most characters of the decision rationale the onboard model writes; 0 turns the '
              'rationale off (an empty string) for the tightest loops.',
              minimum=0, maximum=200, applies=ON_ACTIVATE),
    ParamSpec('max_label_chars', 40, 'Most characters of a target label.',
              minimum=1, maximum=80, applies=ON_ACTIVATE),
    ParamSpec('max_question_chars', 160, 'Most characters of a clarifying question.',
              minimum=1, maximum=300, applies=ON_ACTIVATE),
    ParamSpec('max_answer_chars', 160, 'Most characters of an answer to the operator.',
              minimum=1, maximum=300, applies=ON_ACTIVATE),
    # Object detector (perception beside language)
    ParamSpec('detector_model', '',
              'Object-detection ONNX in the Ultralytics export layout (output [1, 4 + classes, '
              "anchors], class names in the model's `names` metadata), run on the frame of "
              "each decision; a relative path is taken in the package share directory when it "
              "is there (models/sim-detector/sim-detector.onnx: the simulated world's detector, "
              "which ministral-sim's suite uses). '' = no detector. A missing, corrupt or "
              'wrong-layout model is reported (diagnostics: detector) and the node decides '
              'without it.'),
    ParamSpec('detector_score_threshold', 0.25,
              'Detections scoring below this are dropped.', minimum=0.01, maximum=1.0),
    ParamSpec('detector_iou_threshold', 0.45,
              'Non-maximum suppression: a box overlapping a better one of the same class by '
              'more than this IoU is dropped.', minimum=0.05, maximum=1.0),
    ParamSpec('detector_input_size', 0,
              "Input size in pixels for models with a dynamic input (a multiple of 32): the "
              "frame is fitted to it keeping its aspect and padded to the next multiple of 32 "
              "(a 320x240 frame at 640 is a 640x480 input); 0 = the model's own input size (a "
              "dynamic one: its `imgsz` metadata, else 640).",
              minimum=0, maximum=4096),
    ParamSpec('detector_input_sizes', [],
              'Several input sizes (multiples of 32; 0 = the model\'s own) to run the '
              'model at on each frame, their boxes merged (see detector_scale_split_px) and '
              'suppressed per class: a small input sees the large objects whole, a large one '
              'the small objects; empty = the one detector_input_size. Each size costs a model '
              'run.', minimum=0, maximum=4096, list_of='int'),
    ParamSpec('detector_scale_split_px', 0.0,
              'With several detector_input_sizes, each object size is taken from one input: '
              'boxes whose shorter side measures at least this many pixels in the next larger '
              'input come from the smaller one, smaller boxes from the larger one; 0 = every '
              "input's boxes, non-maximum suppression alone.", minimum=0.0, maximum=4096.0),
    ParamSpec('detector_classes', [],
              'Class names to keep (as in the model metadata); empty keeps every class.'),
    ParamSpec('detector_providers', ['cuda', 'cpu'],
              "The detector's ONNX Runtime execution providers in order of preference; missing "
              'ones are skipped, CPU always last.', choices=('tensorrt', 'cuda', 'cpu')),
    ParamSpec('detector_rate_hz', 0.0,
              'Also detect on the newest frame at this rate between decisions (a decision then '
              'reuses the detections of its frame); 0 = only on the frame of a decision.',
              minimum=0.0, maximum=30.0, applies=ON_CONFIGURE),
    # Remote model
    ParamSpec('remote_url', '',
              "Base URL of the ground station's OpenAI-compatible server (ministral-serve, "
              "vLLM, llama.cpp server, Mistral's API), with or without /v1, e.g. "
              "http://192.168.1.10:8000; '' disables the remote source. No credentials in it."),
    ParamSpec('remote_model', '',
              "Model name sent to the server; '' sends none (single-model servers such as "
              'ministral-serve and llama.cpp answer with their own).'),
    ParamSpec('remote_api_key_env', 'MINISTRAL_REMOTE_API_KEY',
              'Name of the environment variable holding the API key, sent as Authorization: '
              "Bearer when set; the key itself never goes in parameters or logs. '' sends none."),
    ParamSpec('remote_image_edge', 768,
              'The camera frame is shrunk to this longest side and sent as JPEG with each '
              'remote request; 0 sends no image (text only, for thin links).',
              minimum=0, maximum=4096),
    ParamSpec('remote_jpeg_quality', 85,
              'JPEG quality of the frame sent to the remote model (size against detail).',
              minimum=10, maximum=100),
    ParamSpec('remote_health_period_s', 5.0,
              'How often the remote endpoint is probed (GET /v1/models) for diagnostics, '
              'beside the ground heartbeat; 0 disables the probe.', minimum=0.0, maximum=3600.0),
    ParamSpec('remote_dialect', 'auto',
              "The server's request dialect: how the schema goes (json_schema, llama-cpp-"
              "python's json_object, TGI's json value, or a GBNF grammar that enforces every "
              'bound on llama.cpp servers), whether a model name is required, the seed field. '
              "'auto' detects it from GET /v1/models, again after an error.",
              choices=('auto', 'openai', 'vllm', 'llama_cpp', 'llama_cpp_python', 'tgi',
                       'ollama', 'mistral')),
)

SPECS: dict[str, ParamSpec] = {p.name: p for p in PARAMETERS}

# Checks across parameters: each takes all values and returns a reason, or None if fine.
CrossCheck = Callable[[Mapping[str, Value]], str | None]
CROSS_CHECKS: list[CrossCheck] = []


def _unique_sources(values: Mapping[str, Value]) -> str | None:
    sources = values['decision_sources']
    if not sources:
        return 'decision_sources: name at least one source'
    if len(set(sources)) != len(sources):
        return f'decision_sources: {sources} names a source twice'
    return None


CROSS_CHECKS.append(_unique_sources)


def _ordered(low: str, high: str, strict: bool = False) -> CrossCheck:
    """A check that `values[low] <= values[high]` (`<` when strict)."""
    def check(values: Mapping[str, Value]) -> str | None:
        if values[low] < values[high] or (not strict and values[low] == values[high]):
            return None
        relation = 'above' if strict else 'at least'
        return f'{high} ({values[high]}) must be {relation} {low} ({values[low]})'
    return check


def _geofence_polygon(values: Mapping[str, Value]) -> str | None:
    flat = values['geofence_polygon']
    problem = polygon_problem(flat)
    if problem:
        return f'geofence_polygon: {problem}'
    if flat and not point_in_polygon((0.0, 0.0), polygon_from_flat(flat)):
        return 'geofence_polygon: home (0, 0) must be inside the polygon'
    return None


def _remote_url(values: Mapping[str, Value]) -> str | None:
    if not values['remote_url'].strip():
        return None
    try:
        parse_endpoint(values['remote_url'])
    except ValueError as exc:
        return f'remote_url: {exc}'
    return None


def _detector_input_size(values: Mapping[str, Value]) -> str | None:
    for name in ('detector_input_size', 'detector_input_sizes'):
        sizes = values[name] if isinstance(values[name], list) else [values[name]]
        odd = [size for size in sizes if size % 32]
        if odd:
            return f'{name}: {odd[0]} is not a multiple of 32 (0 = the model\'s own)'
    return None


CROSS_CHECKS.extend([
    _detector_input_size,
    _ordered('min_altitude_m', 'max_altitude_m', strict=True),
    _ordered('geofence_margin_m', 'geofence_max_distance_m', strict=True),
    _ordered('min_battery_mission_pct', 'min_battery_takeoff_pct'),
    _ordered('min_orbit_radius_m', 'max_orbit_radius_m'),
    _ordered('min_follow_distance_m', 'default_follow_distance_m'),
    _ordered('default_follow_distance_m', 'max_follow_distance_m'),
    _ordered('default_search_radius_m', 'max_search_radius_m'),
    _geofence_polygon,
    _remote_url,
])


def defaults() -> dict[str, Value]:
    """Every parameter at its default."""
    return {p.name: p.default for p in PARAMETERS}


def unknown(name: str) -> str:
    """The problem line for a parameter that is not declared, with the nearest name."""
    near = difflib.get_close_matches(name, list(SPECS), n=1)
    return f'unknown parameter {name!r}' + (f' (did you mean {near[0]!r}?)' if near else '')


def problems(values: Mapping[str, Any]) -> list[str]:
    """Every problem of a set of values, one line each naming parameter, value and rule:
    unknown names, wrong types, out-of-range values, then broken cross-rules."""
    found: list[str] = []
    checked: dict[str, Value] = {}
    for name, value in values.items():
        if name not in SPECS:
            found.append(unknown(name))
            continue
        try:
            checked[name] = SPECS[name].check(value)
        except ParameterError as exc:
            found.append(str(exc))
    if not found:
        complete = {**defaults(), **checked}
        found.extend(reason for check in CROSS_CHECKS if (reason := check(complete)))
    return found


def validate(values: Mapping[str, Any]) -> dict[str, Value]:
    """Checked, coerced copy of a complete set of values; ParameterError naming every
    problem (one per line) when there is any."""
    found = problems(values)
    if found:
        raise ParameterError('\n'.join(found))
    return {name: SPECS[name].check(value) for name, value in values.items()}


def with_changes(current: Mapping[str, Value], changes: Mapping[str, Any]) -> dict[str, Value]:
    """`current` updated by `changes`, validated as a whole (a change may break a cross-check)."""
    return validate({**current, **changes})


def _node_section(document: Any, node_name: str, path: Path) -> Mapping[str, Any]:
    if not isinstance(document, dict):
        raise ParameterError(f'{path}: expected a mapping of node names to ros__parameters')
    merged: dict[str, Any] = {}
    for key in ('/**', '**', node_name, f'/{node_name}'):
        section = document.get(key)
        if section is None:
            continue
        if not isinstance(section, dict) or not isinstance(
                section.get('ros__parameters'), dict):
            raise ParameterError(f'{path}: {key!r} has no ros__parameters mapping')
        merged.update(section['ros__parameters'])
    for key, section in document.items():
        if isinstance(key, str) and key.endswith(f'/{node_name}') and key.startswith('/') \
                and key != f'/{node_name}' and isinstance(section, dict):
            merged.update(section.get('ros__parameters') or {})
    return merged


def load_params_file(path: str | Path, node_name: str = NODE_NAME,
                     base: Mapping[str, Value] | None = None) -> dict[str, Value]:
    """Values from a ROS 2 parameters YAML file over `base` (defaults), validated."""
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text(encoding='utf-8'))
    except OSError as exc:
        raise ParameterError(f'cannot read parameters file {path}: {exc.strerror}') from exc
    except yaml.YAMLError as exc:
        raise ParameterError(f'{path} is not valid YAML: {exc}') from exc
    section = {name: value for name, value in _node_section(document, node_name, path).items()
               if not is_ros_own(name)}
    try:
        return validate({**(base or defaults()), **section})
    except ParameterError as exc:
        raise ParameterError('\n'.join(f'{path}: {line}' for line in str(exc).splitlines())
                             ) from exc


def names() -> Iterable[str]:
    """Every declared parameter name."""
    return SPECS.keys()


# The remote endpoint -----------------------------------------------------------------------------

DEFAULT_PORTS = {'http': 80, 'https': 443}


@dataclass(frozen=True)
class Endpoint:
    """An OpenAI-compatible server: where to connect and the path prefix before `/v1`."""

    scheme: str
    host: str
    port: int
    base_path: str = ''

    @property
    def origin(self) -> str:
        """`scheme://host:port` (IPv6 hosts bracketed), for logs and model identity."""
        host = f'[{self.host}]' if ':' in self.host else self.host
        return f'{self.scheme}://{host}:{self.port}'

    def path(self, api_path: str) -> str:
        """The request path of `api_path` (e.g. CHAT_PATH) on this server."""
        return self.base_path + api_path


def parse_endpoint(url: str) -> Endpoint:
    """An `Endpoint` from a base URL given with or without `/v1`; ValueError says what is wrong.

    Credentials never belong in the URL (they would end up in parameter dumps and logs): a URL
    with a user name, password or query string is refused.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise ValueError(f'{url!r} is not a URL: {exc}') from exc
    if parts.scheme not in DEFAULT_PORTS:
        raise ValueError(f'{url!r}: the scheme must be http or https')
    if not parts.hostname:
        raise ValueError(f'{url!r} names no host')
    if parts.username is not None or parts.password is not None or parts.query:
        raise ValueError('the URL must not carry credentials or a query; give the API key '
                         'through the environment variable named by remote_api_key_env')
    base = parts.path.rstrip('/')
    base = base.removesuffix('/v1')
    return Endpoint(parts.scheme, parts.hostname, port or DEFAULT_PORTS[parts.scheme], base)
