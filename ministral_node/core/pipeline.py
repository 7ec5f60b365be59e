"""One operator command in, one validated decision out.

Screens the command, takes the freshest camera frame, runs the object detector on it (when one
is configured), runs the fallback chain, resolves the proposal's target against the
detections, passes the proposal through the safety envelope, and assembles the decision.
Every problem on the way is logged, recorded in the health board, and stated in the decision.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Callable, Sequence

from ministral_node.core.fallback import CircuitBreaker, FallbackChain
from ministral_node.core.settings import PipelineSettings, Settings, defaults
from ministral_node.decision import (
    CANCELLED,
    REFLEX,
    UNVERIFIED,
    Attempt,
    CommandInfo,
    Decision,
    ModelInfo,
    Proposal,
    Refusal,
    RefusalKind,
    make_decision,
    reject,
    steps_of,
)
from ministral_node.health import ERROR, OK, HealthBoard
from ministral_node.inputs.camera import STALE_AFTER_DECODE, UNUSABLE, Frame, LatestFrame
from ministral_node.inputs.commands import screen
from ministral_node.inputs.vehicle import VehicleState
from ministral_node.mission.executor import SEARCHING_ACTIONS, ExecutorSettings
from ministral_node.mission.projection import CameraIntrinsics, box_center, ground_distance
from ministral_node.mission.search import Sighting
from ministral_node.perception.answers import answer_scene, scene_question
from ministral_node.perception.detector import DetectorSettings
from ministral_node.perception.grounding import (
    Grounding,
    Seen,
    ground,
    knows,
    matching,
    parse_label,
    target_box,
)
from ministral_node.perception.service import DetectorService, Scene
from ministral_node.resources import share_dir
from ministral_node.safety.envelope import ALWAYS_ALLOWED, CONFIRMED, SafetyEnvelope
from ministral_node.sources.base import Decider, DecisionRequest
from ministral_node.sources.rules.decider import RuleDecider
from ministral_node.sources.rules.parser import detect_language, parse_command
from ministral_node.sources.rules.reflex import Reflex, ReflexReader
from ministral_node.timing import Cancellation, Clock, Deadline

log = logging.getLogger(__name__)

# What a source says to a scene question it cannot answer; the detections answer it instead.
SCENE_ANSWER_REPLACES = ('answer', 'clarify', 'reject')


class DecisionPipeline:
    """Turns commands into decisions; thread-safe for one caller at a time."""

    def __init__(self, chain: FallbackChain, frames: LatestFrame, clock: Clock,
                 stamp_clock: Clock, settings: PipelineSettings | None = None,
                 health: HealthBoard | None = None, envelope: SafetyEnvelope | None = None,
                 vehicle: Callable[[], VehicleState | None] = lambda: None,
                 steady: Clock | None = None, perception: DetectorService | None = None,
                 camera: Callable[[], CameraIntrinsics | None] = lambda: None,
                 searches: bool = False) -> None:
        self.chain = chain
        self.frames = frames
        self.clock = clock
        self.steady = steady or clock
        self.stamp_clock = stamp_clock
        self.settings = settings or PipelineSettings()
        self.health = health or HealthBoard(clock)
        self.envelope = envelope or SafetyEnvelope(defaults().limits, clock)
        self.vehicle = vehicle
        self.reflexes = ReflexReader(defaults().loop.reflexes)
        self.perception = perception
        # The camera model for distances: intrinsics (camera_info, when known), and the mount,
        # projection range and pose timeout the executor places targets with.
        self.camera = camera
        self.placement = ExecutorSettings()
        # A mission executor flies the decisions and searches for a step's target not in view
        # (through `find`): a mission's first step then searches too instead of asking back.
        self.searched = SEARCHING_ACTIONS if searches else frozenset()

    @classmethod
    def from_settings(cls, settings: Settings, sources: list[Decider], frames: LatestFrame,
                      clock: Clock, stamp_clock: Clock, health: HealthBoard | None = None,
                      vehicle: Callable[[], VehicleState | None] = lambda: None,
                      skip: Callable[[str], str | None] = lambda source: None,
                      steady: Clock | None = None, envelope: SafetyEnvelope | None = None,
                      camera: Callable[[], CameraIntrinsics | None] = lambda: None,
                      searches: bool = False) -> DecisionPipeline:
        """The pipeline the node and the CLI run.

        `clock` times state (frame and pose freshness, confirmations); `steady` (default:
        `clock`) times the decision's deadline and latency; `stamp_clock` stamps decisions.
        `envelope` (default: a new one on `clock`) is the safety envelope, shared with whoever
        else checks against it (the mission executor). `camera` gives the camera's intrinsics
        (None while unknown), which scene answers need to say distances. A pipeline with
        sources (an active node) loads the object detector when `detector_model` names one.
        `searches`: a mission executor flies the decisions and searches for a step's target
        not in view through `find` (`execute_missions`).
        """
        steady = steady or clock
        health = health or HealthBoard(clock)
        breakers = {s.source: CircuitBreaker(steady) for s in sources}
        perception = None
        if sources:
            perception = DetectorService(DetectorSettings.from_values(settings.values), health,
                                         share_dir)
            perception.load()
        pipeline = cls(FallbackChain(sources, steady, breakers=breakers, skip=skip), frames,
                       clock, stamp_clock, settings.pipeline, health,
                       envelope or SafetyEnvelope(settings.limits, clock), vehicle, steady,
                       perception, camera, searches)
        pipeline.apply(settings)
        return pipeline

    def apply(self, settings: Settings) -> None:
        """Take new settings; new limits go to the envelope (dropping any action waiting for
        confirmation)."""
        self.settings = settings.pipeline
        self.reflexes = ReflexReader(settings.loop.reflexes)
        self.chain.apply(settings.chain)
        self.placement = ExecutorSettings.from_params(settings.values)
        if self.perception is not None:
            self.perception.apply(DetectorSettings.from_values(settings.values))
        if self.envelope.apply(settings.limits):
            log.info('safety limits changed')

    def decide(self, text: str, *, command_id: str | None = None,
               received: float | None = None, cancel: Cancellation | None = None,
               reflexes: bool = True) -> Decision:
        """The decision for one command; `received` is its arrival on the steady clock. A
        reflex (unless `reflexes` is False) is obeyed without the chain."""
        received = self.steady.now() if received is None else received
        reflex = self.read_reflex(text) if reflexes else None
        if reflex is not None:
            return self.reflex(reflex, text=text, command_id=command_id, received=received)
        command = self._command_info(text, command_id, received)
        screened = screen(text, self.settings.max_command_chars)
        if screened is not None:
            proposal, reason = screened
            return self.refuse(Refusal(RefusalKind.INPUT, reason), text=text,
                               command_id=command.id, received=received, proposal=proposal)
        self.health.set('command', OK, 'last command accepted', last_id=command.id)
        confirmation = self._settle_confirmation(text, command, received)
        if confirmation is not None:
            return confirmation
        complete = self._complete_reading(text)
        if complete is not None:
            proposal, attempts = complete
            return self._finish(proposal, 'rules', command, None, None, attempts, [], received)
        notes: list[str] = []
        frame = self._fresh_frame(notes)
        scene = self._see(frame, notes)
        deadline = Deadline(self.steady,
                            self.settings.decision_timeout_s - (self.steady.now() - received))
        result = self.chain.decide(DecisionRequest(command, frame, scene), deadline, cancel)
        self._record_attempts(result.attempts)
        notes.extend(result.notes)
        proposal, grounding = result.proposal, None
        if result.source == 'failsafe':
            notes.append('every decision source failed; failsafe decided')
        elif scene is not None:
            proposal, grounding = self._ground(proposal, scene, text, notes)
        return self._finish(proposal, result.source, command, frame, result.model,
                            result.attempts, notes, received, grounding=grounding)

    def refuse(self, refusal: Refusal, *, text: str = '', command_id: str | None = None,
               received: float | None = None, proposal: Proposal | None = None) -> Decision:
        """The decision for a command refused before any source saw it (unreadable, dropped,
        empty, too long, the node not deciding): `reject` with the refusal's reason unless
        another proposal is given; no attempts, the refusal in its own field."""
        received = self.steady.now() if received is None else received
        command = self._command_info(text, command_id, received)
        reason = refusal.reason
        log.warning('command %s refused: %s', command.id, reason)
        self.health.error('command', f'command refused: {reason}')
        return self._finish(proposal or reject(f'Command not executed: {reason}', reason),
                            'rules', command, None, None, [],
                            [f'command refused before any decision source: {reason}'],
                            received, refusal=refusal)

    def read_reflex(self, text: str) -> Reflex | None:
        """The reflex `text` asks for (see `sources.rules.reflex`), or None: also None for a
        command the input check would refuse."""
        if screen(text, self.settings.max_command_chars) is not None:
            return None
        return self.reflexes.read(text)

    def reflex(self, reflex: Reflex, *, text: str, command_id: str | None = None,
               received: float | None = None, preempted: Sequence[str] = (),
               notes: Sequence[str] = ()) -> Decision:
        """The decision for a command obeyed as a reflex (see `sources.rules.reflex`): the
        rule parser's reading, through the envelope, with what it preempted in its attempt and
        notes (and `notes`). A pending confirmation is dropped, as by any new command."""
        received = self.steady.now() if received is None else received
        command = self._command_info(text, command_id, received)
        self.envelope.drop_confirmation()
        detail = f'{reflex.action} read as a reflex ({reflex.language})'
        if preempted:
            detail += '; preempted ' + '; '.join(preempted)
        attempt = Attempt(REFLEX, 'ok', detail, (self.steady.now() - received) * 1000.0)
        notes = ['obeyed as a reflex, ahead of the decision queue and the models',
                 *(f'preempted {what}' for what in preempted), *notes]
        log.info('reflex %s for command %s%s', reflex.action, command.id,
                    ''.join(f'; preempted {what}' for what in preempted))
        return self._finish(reflex.proposal, 'rules', command, None, None, [attempt], notes,
                            received)

    def failsafe(self, proposal: Proposal, reason: str) -> Decision:
        """An unsolicited failsafe decision (link loss): answers no command, never blocked."""
        log.warning('failsafe %s: %s', proposal.action, reason)
        self.envelope.drop_confirmation()
        now = self.steady.now()
        return self._finish(proposal, 'failsafe', None, None, None,
                            [Attempt('failsafe', 'ok', reason)], [reason], now)

    def _settle_confirmation(self, text: str, command: CommandInfo,
                             received: float) -> Decision | None:
        """The decision if `text` settles an action waiting for confirmation, else None."""
        reply = self.envelope.settle_confirmation(text)
        if reply.pending is None:
            return None
        pending = reply.pending
        if reply.outcome == CONFIRMED:
            log.info('operator confirmed %s from %s', pending.proposal.action, pending.source)
            attempt = Attempt(pending.source, 'ok', 'confirmed by the operator')
            return self._finish(pending.proposal, pending.source, command, None, None,
                                [attempt], [], received, confirmed=True)
        response = reply.response()
        if response is None:  # any other command drops the pending action and is decided
            log.info('pending %s dropped by a new command', pending.proposal.action)
            return None
        attempt = Attempt('rules', 'ok', f'confirmation {reply.outcome}')
        return self._finish(response, 'rules', command, None, None, [attempt], [], received)

    def _complete_reading(self, text: str) -> tuple[Proposal, list[Attempt]] | None:
        """The rule parser's complete reading of `text` and its attempts, when the fast path
        applies: on, the chain has the parser and a model before it, and the parser reads the
        command completely (`sources.rules.decider.complete_reading`). Else None."""
        if not self.settings.rules_fast_path:
            return None
        sources = self.chain.sources
        index = next((i for i, s in enumerate(sources) if isinstance(s, RuleDecider)), None)
        if not index:  # no parser, or nothing before it to skip
            return None
        began = self.steady.now()
        proposal = sources[index].complete(text)
        if proposal is None:
            return None
        reason = 'the rule parser read the command completely (rules_fast_path)'
        return proposal, [*(Attempt(s.source, 'skipped', reason) for s in sources[:index]),
                          Attempt('rules', 'ok', 'complete reading',
                                  (self.steady.now() - began) * 1000.0)]

    def _command_info(self, text: str, command_id: str | None, received: float) -> CommandInfo:
        # Never before the epoch: under use_sim_time ROS time is 0 until /clock arrives.
        stamp = max(0.0, self.stamp_clock.now() - (self.steady.now() - received))
        return CommandInfo(command_id or str(uuid.uuid4()), text, stamp)

    def _fresh_frame(self, notes: list[str]) -> Frame | None:
        """The newest frame if it is fresh once decoded (when the source reads it)."""
        max_age = self.settings.max_frame_age_s
        taken = self.frames.take(self.clock, max_age)
        if taken.status == UNUSABLE:
            log.error('camera frame unusable: %s', taken.error)
            self.health.error('camera', f'frame could not be decoded: {taken.error}')
            notes.append(f'decided without an image: the newest camera frame was unusable '
                         f'({taken.error})')
        elif taken.status == STALE_AFTER_DECODE:
            log.warning('camera frame %.2f s old after a %.3f s decode', taken.age_s,
                        taken.decode_s)
            notes.append(f'decided without an image: the newest camera frame was older than '
                         f'{max_age:g} s once decoded (decoding took {taken.decode_s:.2f} s)')
        elif taken.frame is None:
            notes.append(f'decided without an image: no camera frame newer than {max_age:g} s')
        return taken.frame

    def detect_newest(self) -> Scene | None:
        """Run the detector on the newest fresh frame, between decisions (the node calls this
        at `detector_rate_hz`); a decision on the same frame reuses the detections."""
        if self.perception is None or not self.perception.available:
            return None
        frame = self._fresh_frame([])
        return None if frame is None else self.perception.see(frame)

    def find(self, label: str) -> Sighting:
        """One look for the target `label` names in the newest fresh frame (a mission step
        searching for it): its box when exactly one detection matches; the problem when the
        detector cannot look for it at all."""
        perception = self.perception
        if perception is None or not perception.settings.enabled:
            return Sighting(problem='no object detector configured (detector_model)')
        if not perception.available:
            return Sighting(problem=f'no object detector: {perception.error}')
        frame = self._fresh_frame([])
        scene = None if frame is None else perception.see(frame)
        if scene is None:  # no fresh frame, or the detector failed on it: not seen this time
            return Sighting()
        if not knows(parse_label(label), scene.classes):
            return Sighting(problem=f'the object detector ({scene.model}) does not know what '
                                    f'{label!r} is')
        found = matching(label, scene.seen)
        return Sighting(target_box(found[0]) if len(found) == 1 else None, len(found))

    def _see(self, frame: Frame | None, notes: list[str]) -> Scene | None:
        """The detector's view of the decision's frame, when both are there."""
        if self.perception is None or not self.perception.settings.enabled:
            return None
        if not self.perception.available:
            notes.append(f'decided without the object detector: {self.perception.error}')
            return None
        if frame is None:
            return None
        scene = self.perception.see(frame)
        if scene is None:
            notes.append('decided without the object detector: it failed on this frame')
        return scene

    def _fresh_vehicle(self) -> VehicleState | None:
        """The vehicle's state with a stale pose unknown; None when none was received."""
        vehicle = self.vehicle()
        if vehicle is None:
            return None
        return vehicle.fresh(self.clock.now(), self.placement.pose_timeout_s, math.inf)

    def _distance(self) -> Callable[[Seen], float | None] | None:
        """A detection's ground distance from the vehicle's pose and the camera model; None
        when either is unknown or the pose is stale (an answer then says no distance)."""
        intrinsics, vehicle = self.camera(), self._fresh_vehicle()
        if intrinsics is None or vehicle is None:
            return None
        placement = self.placement
        if vehicle.position_m is None:
            return None
        return lambda seen: ground_distance(box_center(seen.detection.box), intrinsics,
                                            placement.mount, vehicle,
                                            placement.max_projection_distance_m)

    def _ground(self, proposal: Proposal, scene: Scene, text: str, notes: list[str]
                ) -> tuple[Proposal, Grounding]:
        """The proposal with its target resolved against the scene's detections; a question
        about the scene that no source could answer (answer, clarify or reject) is answered
        from the detections."""
        language = detect_language(text)
        question = scene_question(text)
        if question is not None and proposal.action not in SCENE_ANSWER_REPLACES and \
                parse_command(text).action in SCENE_ANSWER_REPLACES:
            # A model that flies on a question ("gibt es einen LKW?" read as follow): the
            # rule parser reads no command in it, so it is answered, never flown.
            notes.append(f'the proposed {proposal.action} replaced: the command is a scene '
                         'question and the rule parser reads no command in it')
        elif proposal.action not in SCENE_ANSWER_REPLACES:
            question = None
        if question is not None:
            proposal = answer_scene(question, scene.seen, language, self._distance())
            notes.append(f'scene question ({question.form}) answered from the object detector')
        grounded, grounding = ground(proposal, list(scene.seen), scene.classes, language,
                                     scene.detect_ms, searched=self.searched)
        if grounding.searching:
            return self._search_first_step(grounded, grounding, len(scene.seen), notes)
        if grounding.status == 'grounded':
            chosen = grounding.detection.detection
            notes.append(f'target {grounding.label!r}: the detector\'s {chosen.label} '
                         f'(score {chosen.score:.2f}) gives its box')
        elif grounding.status in ('ambiguous', 'not_in_view'):
            notes.append(f'target {grounding.label!r} {grounding.status.replace("_", " ")} '
                         f'for the detector ({len(grounding.candidates)} matching, '
                         f'{len(scene.seen)} in view)')
        elif grounding.model_box == 'dropped':
            notes.append(f"target {grounding.label!r}: the model's box agrees with no "
                         'detection; published without a box')
        return grounded, grounding

    def _search_first_step(self, mission: Proposal, grounding: Grounding, in_view: int,
                           notes: list[str]) -> tuple[Proposal, Grounding]:
        """A mission whose first step's target is not in view: flown, the step searching for
        it; refused, saying why, while the vehicle is on the ground (a search looks around from
        the air)."""
        first = steps_of(mission)[0]
        vehicle = self._fresh_vehicle()
        if vehicle is not None and vehicle.in_air is False:
            reason = f'{first.action} on {grounding.label!r}: not in view, and the search for ' \
                     'it needs the vehicle in the air: take off first'
            notes.append(reason)
            return reject(reason, 'first step: target not in view (detector)',
                          mission.confidence), grounding
        notes.append(f'target {grounding.label!r} not in view for the detector (0 matching, '
                     f"{in_view} in view): the mission's first step searches for it (a full "
                     'turn, then the search pattern)')
        return mission, grounding

    def _record_safety(self, status: str, detail: str) -> None:
        counts = self.envelope.counts
        message = 'enforcing limits' if status == 'passed' else f'last decision {status}: {detail}'
        self.health.set('safety', OK, message, **{f'{k}_total': v for k, v in counts.items()})

    def _record_attempts(self, attempts: list[Attempt]) -> None:
        for attempt in attempts:
            if attempt.source == 'failsafe':
                continue
            if attempt.outcome == 'ok':
                self.health.set(attempt.source, OK, 'deciding',
                                last_latency_ms=f'{attempt.latency_ms:.1f}')
            elif attempt.outcome == 'unavailable':
                self.health.set(attempt.source, ERROR, attempt.detail)
            elif attempt.outcome not in ('skipped', UNVERIFIED, CANCELLED):
                log.warning('source %s: %s: %s', attempt.source, attempt.outcome, attempt.detail)
                self.health.error(attempt.source, f'{attempt.outcome}: {attempt.detail}')

    def _finish(self, proposal: Proposal, source: str, command: CommandInfo | None,
                frame: Frame | None, model: ModelInfo | None, attempts: list[Attempt],
                notes: list[str], received: float, confirmed: bool = False,
                grounding: Grounding | None = None, refusal: Refusal | None = None
                ) -> Decision:
        vehicle = self.vehicle()
        proposal, report = self.envelope.check(proposal, source, vehicle, confirmed=confirmed)
        if proposal.action not in ALWAYS_ALLOWED and source != 'failsafe':
            notes = [*notes, *self.envelope.notes(vehicle)]
        self._record_safety(report.status, report.refused or '; '.join(
            f'{c.field} {c.requested}->{c.applied}' for c in report.changes))
        return make_decision(
            proposal, source=source, stamp=self.stamp_clock.now(),
            latency_ms=(self.steady.now() - received) * 1000.0, command=command,
            frame=None if frame is None else frame.info(self.clock.now()), model=model,
            safety=report,
            attempts=attempts, notes=notes,
            grounding=None if grounding is None else grounding.to_dict(), refusal=refusal)
