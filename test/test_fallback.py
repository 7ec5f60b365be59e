"""The fallback chain: order, per-source deadlines, invalid output, failsafe at the bottom."""

import math

from support import ScriptedDecider, failing

from ministral_node.core.fallback import FallbackChain
from ministral_node.decision import CommandInfo, Proposal
from ministral_node.sources.base import DeciderError, DeciderUnavailable, DecisionRequest
from ministral_node.timing import Cancellation, Deadline, FakeClock

REQUEST = DecisionRequest(CommandInfo('c1', 'take off', 0.0))
TAKEOFF = Proposal('takeoff', {'altitude_m': 10.0}, None, 0.9, 'asked')


def test_first_good_source_decides_and_is_recorded():
    clock = FakeClock()
    chain = FallbackChain([ScriptedDecider('onboard', TAKEOFF), ScriptedDecider('rules')], clock)
    result = chain.decide(REQUEST, Deadline(clock, 5))
    assert result.source == 'onboard' and result.proposal is TAKEOFF
    assert result.model.name == 'onboard-model'
    assert [(a.source, a.outcome) for a in result.attempts] == [('onboard', 'ok')]


def test_failures_hand_over_with_their_reasons():
    clock = FakeClock()
    invalid = ScriptedDecider('remote', Proposal('goto', {}, None, 1.0, ''))
    chain = FallbackChain([invalid, failing('onboard', 'model crashed'),
                           ScriptedDecider('rules', TAKEOFF)], clock)
    result = chain.decide(REQUEST, Deadline(clock, 5))
    assert result.source == 'rules'
    outcomes = [(a.source, a.outcome) for a in result.attempts]
    assert outcomes == [('remote', 'invalid'), ('onboard', 'error'), ('rules', 'ok')]
    assert 'target' in result.attempts[0].detail
    assert result.attempts[1].detail == 'model crashed'


def test_unavailable_and_crashing_sources_are_told_apart():
    clock = FakeClock()
    crash = ScriptedDecider('remote', error=ZeroDivisionError('bug'))
    gone = ScriptedDecider('onboard', error=DeciderUnavailable('no model loaded'))
    result = FallbackChain([crash, gone], clock).decide(REQUEST, Deadline(clock, 5))
    assert [(a.outcome, a.detail) for a in result.attempts[:2]] == [
        ('error', 'ZeroDivisionError: bug'), ('unavailable', 'no model loaded')]
    assert result.source == 'failsafe' and result.proposal.action == 'hold'


def test_a_slow_source_is_cut_at_its_own_timeout_and_the_next_decides():
    clock = FakeClock()
    slow = ScriptedDecider('onboard', TAKEOFF, clock=clock, takes_s=10.0)
    chain = FallbackChain([slow, ScriptedDecider('rules')], clock, timeouts_s={'onboard': 2.0})
    start = clock.now()
    result = chain.decide(REQUEST, Deadline(clock, 8))
    assert result.source == 'rules'
    assert result.attempts[0].outcome == 'timeout'
    assert clock.now() - start <= 2.0 + 0.011  # stopped at the first check past its budget


def test_a_late_answer_is_discarded_even_if_the_source_ignores_cancellation():
    clock = FakeClock()
    stubborn = ScriptedDecider('onboard', TAKEOFF, clock=clock, takes_s=5.0,
                               honours_cancel=False)
    chain = FallbackChain([stubborn, ScriptedDecider('rules')], clock, timeouts_s={'onboard': 1})
    result = chain.decide(REQUEST, Deadline(clock, 30))
    assert result.source == 'rules'
    assert result.attempts[0].outcome == 'timeout'
    assert 'late result discarded' in result.attempts[0].detail


def test_no_time_left_skips_to_the_failsafe():
    clock = FakeClock()
    rules = ScriptedDecider('rules')
    result = FallbackChain([rules], clock).decide(REQUEST, Deadline(clock, 0))
    assert result.source == 'failsafe'
    assert [(a.source, a.outcome) for a in result.attempts] == [('rules', 'skipped'),
                                                                ('failsafe', 'ok')]
    assert rules.requests == []


def test_a_cancelled_decision_skips_remaining_sources():
    clock = FakeClock()
    cancel = Cancellation()
    first = ScriptedDecider('onboard', error=DeciderError('stopped'),
                            on_call=lambda r: cancel.cancel('superseded'))
    rules = ScriptedDecider('rules')
    result = FallbackChain([first, rules], clock).decide(REQUEST, Deadline(clock, 5), cancel)
    assert rules.requests == []
    assert result.attempts[1].outcome == 'skipped' and result.attempts[1].detail == 'superseded'


def test_a_source_stopped_from_outside_is_cancelled_not_late_nor_a_failure():
    from ministral_node.core.fallback import CircuitBreaker

    clock = FakeClock()
    breaker = CircuitBreaker(clock, threshold=1)
    for honours in (True, False):
        cancel = Cancellation()
        model = ScriptedDecider('onboard', TAKEOFF, clock=clock, takes_s=2.0,
                                honours_cancel=honours,
                                on_call=lambda r, c=cancel: c.cancel('preempted by a reflex'))
        chain = FallbackChain([model, ScriptedDecider('rules')], clock,
                              timeouts_s={'onboard': 8.0}, breakers={'onboard': breaker})
        attempt = chain.decide(REQUEST, Deadline(clock, 10), cancel).attempts[0]
        assert (attempt.outcome, attempt.detail.split(';')[0]) == \
            ('cancelled', 'preempted by a reflex')
    assert breaker.allows()


def test_a_source_closed_under_it_is_cancelled_never_a_timeout():
    """A source whose engine or connection is closed at shutdown stops with `Cancelled` though
    no deadline passed and nobody cancelled the decision: not a timeout of its budget."""
    from ministral_node.timing import Cancelled

    clock = FakeClock()
    closed = ScriptedDecider('onboard', error=Cancelled('node shutting down'))
    chain = FallbackChain([closed, ScriptedDecider('rules')], clock,
                          timeouts_s={'onboard': 8.0})
    attempt = chain.decide(REQUEST, Deadline(clock, 10), Cancellation()).attempts[0]
    assert (attempt.outcome, attempt.detail) == ('cancelled', 'node shutting down')


def test_a_quick_answer_after_the_decisions_deadline_does_not_blame_the_source_budget():
    """The source answered within its own budget, but the deadline of the cancellation it was
    given had passed meanwhile: a timeout of the decision, said so, not of the source."""
    clock = FakeClock()
    quick = ScriptedDecider('remote', TAKEOFF, clock=clock, takes_s=0.06, honours_cancel=False)
    chain = FallbackChain([quick, ScriptedDecider('rules')], clock, timeouts_s={'remote': 1.0})
    outer = Cancellation(Deadline(clock, 0.05))
    attempt = chain.decide(REQUEST, Deadline(clock, 10), outer).attempts[0]
    assert attempt.outcome == 'timeout'
    assert attempt.detail == ("answered within its 1 s budget, but the decision's deadline had "
                              'passed; result discarded')
    assert 'after its' not in attempt.detail


def test_a_late_answer_names_its_budget():
    clock = FakeClock()
    late = ScriptedDecider('remote', TAKEOFF, clock=clock, takes_s=1.5, honours_cancel=False)
    chain = FallbackChain([late, ScriptedDecider('rules')], clock, timeouts_s={'remote': 1.0})
    attempt = chain.decide(REQUEST, Deadline(clock, 10), Cancellation()).attempts[0]
    assert (attempt.outcome, attempt.detail) == (
        'timeout', 'answered after its 1 s budget; late result discarded')


def test_cancellation_inherits_deadline_and_parent():
    clock = FakeClock()
    parent = Cancellation(Deadline(clock, 3))
    child = Cancellation(Deadline(clock, 10), parent)
    assert child.remaining() == 3 and not child.cancelled
    clock.advance(3)
    assert child.cancelled and child.reason == 'deadline passed' and not child.requested
    parent.cancel('stop')
    assert child.requested and child.reason == 'deadline passed'
    assert math.isinf(Cancellation().remaining())


def test_time_is_kept_back_for_the_rule_parser_below_a_slow_model():
    clock = FakeClock()
    slow = ScriptedDecider('onboard', TAKEOFF, clock=clock, takes_s=30.0)
    rules = ScriptedDecider('rules')
    result = FallbackChain([slow, rules], clock).decide(REQUEST, Deadline(clock, 2.0))
    assert result.source == 'rules'
    assert result.attempts[0].outcome == 'timeout'
    assert 'stopped after 1.75 s budget' in result.attempts[0].detail


def _verdict(proposal, detail='', source=None, notes=()):
    from ministral_node.sources.rules.verify import Verdict

    return Verdict(proposal, detail, source, tuple(notes))


def test_a_verifier_can_hand_over_to_the_next_source_without_tripping_its_breaker():
    from ministral_node.core.fallback import CircuitBreaker

    clock = FakeClock()
    seen = []

    def verify(source, request, proposal):
        seen.append(source)
        if source == 'onboard':
            return _verdict(None, 'verify: altitude_m=100 not in the command')
        return _verdict(proposal, 'rule reading')

    breaker = CircuitBreaker(clock, threshold=1)
    chain = FallbackChain([ScriptedDecider('onboard', TAKEOFF), ScriptedDecider('rules')], clock,
                          breakers={'onboard': breaker}, verify=verify)
    result = chain.decide(REQUEST, Deadline(clock, 5))
    assert seen == ['onboard', 'rules'] and result.source == 'rules'
    assert [(a.source, a.outcome) for a in result.attempts] == [('onboard', 'unverified'),
                                                                ('rules', 'ok')]
    assert result.attempts[0].detail == 'verify: altitude_m=100 not in the command'
    assert breaker.allows()  # a wrong answer is not a broken source


def test_a_verifier_can_choose_another_reading_or_pass_one_with_notes():
    clock = FakeClock()
    ruled = Proposal('takeoff', {'altitude_m': 12.0}, None, 1.0, 'rules')

    def prefer_rules(source, request, proposal):
        return _verdict(ruled, 'verify: the rule reading wins', 'rules', ['took the rules'])

    chain = FallbackChain([ScriptedDecider('onboard', TAKEOFF), ScriptedDecider('rules')], clock,
                          verify=prefer_rules)
    result = chain.decide(REQUEST, Deadline(clock, 5))
    assert (result.source, result.proposal, result.model) == ('rules', ruled, None)
    assert [(a.source, a.outcome) for a in result.attempts] == [('onboard', 'unverified'),
                                                                ('rules', 'ok')]
    assert result.notes == ['took the rules']

    def passes(source, request, proposal):
        return _verdict(proposal, 'verified: agrees', None, ['box dropped'])

    chain = FallbackChain([ScriptedDecider('onboard', TAKEOFF)], clock, verify=passes)
    result = chain.decide(REQUEST, Deadline(clock, 5))
    assert (result.source, result.proposal) == ('onboard', TAKEOFF)
    assert result.attempts[0].detail == 'verified: agrees' and result.notes == ['box dropped']
