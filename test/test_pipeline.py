"""The pipeline: command screening, camera freshness, chain, and the published decision."""

import numpy as np
import pytest
from support import ScriptedDecider, SlowFrame, failing

from ministral_node.core.fallback import FallbackChain
from ministral_node.core.pipeline import DecisionPipeline
from ministral_node.core.settings import PipelineSettings, Settings
from ministral_node.decision import FrameInfo, Proposal, Refusal, RefusalKind, validate_decision
from ministral_node.health import ERROR, OK
from ministral_node.inputs.camera import EncodedFrame, Frame, LatestFrame
from ministral_node.inputs.image_conversion import CompressedImageData
from ministral_node.inputs.vehicle import VehicleState
from ministral_node.parameters import defaults
from ministral_node.safety.envelope import SafetyEnvelope, SafetyLimits
from ministral_node.timing import FakeClock
from ministral_node.tools.fuzz import jpeg_bytes

TAKEOFF = Proposal('takeoff', {'altitude_m': 10.0}, None, 0.9, 'asked')


def _pipeline(sources, clock=None, **kwargs):
    clock = clock or FakeClock()
    stamps = FakeClock(1_700_000_000.0)
    frames = LatestFrame()
    pipeline = DecisionPipeline(FallbackChain(sources, clock), frames, clock, stamps,
                                PipelineSettings(**kwargs))
    return pipeline, frames, clock


def test_a_command_becomes_a_valid_decision_with_its_context():
    pipeline, frames, clock = _pipeline([ScriptedDecider('rules', TAKEOFF)])
    frames.store(Frame(np.zeros((30, 40, 3), np.uint8), 55.0, 'cam', clock.now()))
    clock.advance(0.2)
    decision = pipeline.decide('take off to 10 m', command_id='abc', received=clock.now())
    validate_decision(decision.to_dict())
    assert decision.action == 'takeoff' and decision.source == 'rules'
    assert decision.command.id == 'abc'
    assert decision.command.text == 'take off to 10 m'
    assert decision.frame == FrameInfo(55.0, 'cam', pytest.approx(0.2), 40, 30)
    assert not any('camera' in n or 'image' in n for n in decision.notes)
    assert decision.refusal is None and 'refusal' not in decision.to_dict()


def test_the_source_sees_the_fresh_frame_and_latency_is_measured():
    clock = FakeClock()
    rules = ScriptedDecider('rules', TAKEOFF, clock=clock, takes_s=0.05)
    pipeline, frames, _ = _pipeline([rules], clock)
    frames.store(Frame(np.ones((8, 8, 3), np.uint8), 1.0, 'cam', clock.now()))
    decision = pipeline.decide('take off', received=clock.now() - 0.01)
    assert rules.requests[0].frame.width == 8
    assert decision.latency_ms == pytest.approx(60.0)


def test_a_stale_frame_is_not_used_and_the_decision_says_so():
    rules = ScriptedDecider('rules', TAKEOFF)
    pipeline, frames, clock = _pipeline([rules], max_frame_age_s=0.5)
    frames.store(Frame(np.zeros((8, 8, 3), np.uint8), 1.0, 'cam', clock.now()))
    clock.advance(0.6)
    decision = pipeline.decide('take off')
    assert rules.requests[0].frame is None
    assert decision.frame is None
    assert decision.notes[0] == 'decided without an image: no camera frame newer than 0.5 s'


def test_a_corrupt_frame_is_reported_and_the_decision_goes_on_without_it():
    rules = ScriptedDecider('rules', TAKEOFF)
    pipeline, frames, clock = _pipeline([rules])
    whole = jpeg_bytes(np.full((32, 48, 3), 90, np.uint8))
    frames.store(EncodedFrame(CompressedImageData('jpeg', whole[:len(whole) // 2]), 1.0, 'cam',
                              clock.now()))  # the header is fine, the pixels are cut off
    decision = pipeline.decide('take off')
    assert decision.action == 'takeoff' and decision.frame is None
    assert 'newest camera frame was unusable' in decision.notes[0]
    camera = pipeline.health.snapshot_of('camera')
    assert camera.level == ERROR and 'could not be decoded' in camera.message
    assert frames.newest() is None  # dropped, so it is reported once


@pytest.mark.parametrize('text, action, reason', [
    ('', 'clarify', 'empty'),
    ('   ', 'clarify', 'empty'),
    ('a' * 100_000, 'reject', 'exceeds max_command_chars'),
    ('\x00\x01\x02\x03', 'reject', 'control'),
])
def test_bad_commands_are_answered_without_calling_any_source(text, action, reason):
    rules = ScriptedDecider('rules', TAKEOFF)
    pipeline, _, _ = _pipeline([rules])
    decision = pipeline.decide(text)
    validate_decision(decision.to_dict())
    assert decision.action == action
    assert decision.refusal.kind is RefusalKind.INPUT and reason in decision.refusal.reason
    assert decision.attempts == ()  # no source ran: not a rules attempt
    published = decision.to_dict()
    assert published['attempts'] == [] and published['refusal']['kind'] == 'input'
    assert rules.requests == []
    assert len(decision.command.text) <= 500
    command = pipeline.health.snapshot_of('command')
    assert command.level == ERROR and reason in command.message


def test_refuse_keeps_the_text_and_says_why():
    pipeline, _, _ = _pipeline([ScriptedDecider('rules')])
    decision = pipeline.refuse(Refusal(RefusalKind.QUEUE_FULL,
                                       'dropped unanswered: 4 newer commands'), text='land now')
    assert decision.action == 'reject' and decision.attempts == ()
    assert decision.refusal == Refusal(RefusalKind.QUEUE_FULL,
                                       'dropped unanswered: 4 newer commands')
    assert decision.command.text == 'land now'
    assert 'dropped unanswered' in decision.params['reason']


def test_failsafe_decisions_say_every_source_failed_and_health_shows_which():
    pipeline, _, _ = _pipeline([failing('onboard', 'session crashed'), failing('rules')])
    decision = pipeline.decide('orbit the tower')
    assert decision.source == 'failsafe' and decision.action == 'hold'
    assert 'every decision source failed; failsafe decided' in decision.notes
    assert [a.outcome for a in decision.attempts] == ['error', 'error', 'ok']
    assert pipeline.health.snapshot_of('onboard').level == ERROR
    assert 'session crashed' in pipeline.health.snapshot_of('onboard').message


def test_the_overall_deadline_counts_from_receipt():
    clock = FakeClock()
    slow = ScriptedDecider('onboard', TAKEOFF, clock=clock, takes_s=5.0)
    pipeline, _, _ = _pipeline([slow, ScriptedDecider('rules')], clock, decision_timeout_s=3.0)
    received = clock.now()
    clock.advance(1.0)  # waited in the queue
    decision = pipeline.decide('take off', received=received)
    assert decision.source == 'rules'
    assert decision.attempts[0].outcome == 'timeout'
    assert clock.now() - received <= 3.0 + 0.011


def test_the_envelope_clamps_and_its_report_is_published():
    climb = Proposal('change_altitude', {'altitude_m': 900.0}, None, 0.9, 'asked')
    pipeline, _, _ = _pipeline([ScriptedDecider('rules', climb)])
    decision = pipeline.decide('climb to 900 m')
    assert decision.params['altitude_m'] == 120.0
    assert decision.safety.status == 'modified'
    change = decision.safety.changes[0]
    assert (change.field, change.requested, change.applied) == (
        'params.altitude_m', 900.0, 120.0)
    assert 'last decision modified' in pipeline.health.snapshot_of('safety').message
    assert any('battery level unknown' in n for n in decision.notes)


def test_vehicle_state_reaches_the_envelope():
    clock = FakeClock()
    low = VehicleState().with_battery(10.0, clock.now())
    pipeline, _, _ = _pipeline([ScriptedDecider('rules', TAKEOFF)], clock)
    pipeline.vehicle = lambda: low
    decision = pipeline.decide('take off')
    assert decision.action == 'reject' and decision.safety.status == 'refused'
    assert 'battery' in decision.safety.refused


def test_an_action_needing_confirmation_waits_for_the_operator():
    clock = FakeClock()
    pipeline, _, _ = _pipeline([ScriptedDecider('rules', TAKEOFF)], clock)
    values = {**defaults(), 'confirm_actions': ['takeoff']}
    pipeline.envelope = SafetyEnvelope(SafetyLimits.from_params(values), clock)
    asked = pipeline.decide('take off to 10 m')
    assert asked.action == 'clarify' and 'Confirm takeoff' in asked.params['question']
    confirmed = pipeline.decide('yes')
    assert confirmed.action == 'takeoff' and confirmed.params == {'altitude_m': 10.0}
    assert confirmed.attempts[0].detail == 'confirmed by the operator'
    pipeline.decide('take off to 10 m')
    declined = pipeline.decide('non')
    assert declined.action == 'answer' and 'not confirmed' in declined.params['text']
    pipeline.decide('take off to 10 m')
    clock.advance(31)
    late = pipeline.decide('oui')
    assert late.action == 'reject' and 'expired' in late.params['reason']


def test_ok_attempts_mark_the_source_healthy():
    pipeline, _, _ = _pipeline([ScriptedDecider('rules', TAKEOFF)])
    pipeline.decide('take off')
    assert pipeline.health.snapshot_of('rules').level == OK


def test_a_frame_too_old_once_decoded_is_not_used_and_the_decision_says_so():
    rules = ScriptedDecider('rules', TAKEOFF)
    pipeline, frames, clock = _pipeline([rules], max_frame_age_s=1.0)
    png = jpeg_bytes(np.full((32, 48, 3), 90, np.uint8))
    frames.store(SlowFrame(CompressedImageData('jpeg', png), 1.0, 'cam', clock.now(), clock,
                           0.985))
    clock.advance(0.3)
    decision = pipeline.decide('take off')
    assert rules.requests[0].frame is None and decision.frame is None
    assert decision.notes[0].startswith('decided without an image: the newest camera frame '
                                           'was older than 1 s once decoded')


def test_the_configured_pipeline_verifies_model_proposals_before_the_envelope():
    from ministral_node.sources.rules import RuleDecider

    clock = FakeClock()
    invented = Proposal('takeoff', {'altitude_m': 100.0}, None, 0.95, 'model')
    pipeline = DecisionPipeline.from_settings(  # the model is asked even for a complete reading
        Settings.from_values({'rules_fast_path': False}),
        [ScriptedDecider('onboard', invented), RuleDecider()], LatestFrame(), clock,
        FakeClock(1.0))
    decision = pipeline.decide('take off to 10 m')
    validate_decision(decision.to_dict())
    assert (decision.source, decision.action, decision.params) == (
        'rules', 'takeoff', {'altitude_m': 10.0})
    first = decision.attempts[0]
    assert (first.source, first.outcome) == ('onboard', 'unverified')
    assert 'altitude_m=100 not in the command' in first.detail
    assert pipeline.health.level('onboard') != ERROR
    pipeline.apply(Settings.from_values({'min_confidence': 0.99, 'rules_fast_path': False}))
    honest = Proposal('takeoff', {'altitude_m': 10.0}, None, 0.95, 'model')
    pipeline.chain.sources[0].proposal = honest
    decision = pipeline.decide('take off to 10 m')
    assert decision.source == 'rules'
    assert 'below min_confidence 0.99' in decision.attempts[0].detail


@pytest.mark.parametrize('text, complete', [('take off to 10 m', True),
                                            ('fly 30 m north then land', True),
                                            ('land on the red pad', False),
                                            ('climb 20', False),  # a number without its unit
                                            ('take off?', False)])
def test_a_complete_rule_reading_is_decided_without_waiting_for_the_model(text, complete):
    from ministral_node.sources.rules import RuleDecider

    model = ScriptedDecider('onboard', Proposal('hold', {'duration_s': None}, None, 0.9, 'm'))
    pipeline = DecisionPipeline.from_settings(Settings.from_values({}), [model, RuleDecider()],
                                              LatestFrame(), FakeClock(), FakeClock(1.0))
    decision = pipeline.decide(text)
    assert (model.requests == []) is complete
    if complete:
        assert decision.source == 'rules'
        assert [(a.source, a.outcome) for a in decision.attempts] == \
            [('onboard', 'skipped'), ('rules', 'ok')]
        assert 'rules_fast_path' in decision.attempts[0].detail
    for off in ({'rules_fast_path': False}, {'arbitration': 'model_first'}):
        model.requests.clear()
        DecisionPipeline.from_settings(Settings.from_values(off), [model, RuleDecider()],
                                       LatestFrame(), FakeClock(), FakeClock(1.0)).decide(text)
        assert len(model.requests) == 1
