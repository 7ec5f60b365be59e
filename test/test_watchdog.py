"""Link monitor, failsafe escalation, circuit breaker and camera rate, on an injected clock."""

import pytest
from support import ScriptedDecider, failing

from ministral_node.core.fallback import CircuitBreaker, FallbackChain
from ministral_node.core.watchdog import (
    FailsafeEscalation,
    LinkMonitor,
    LinkState,
    RateMonitor,
)
from ministral_node.decision import CommandInfo
from ministral_node.sources.base import DecisionRequest
from ministral_node.timing import Deadline, FakeClock


def test_no_loss_before_the_first_heartbeat_like_px4():
    clock = FakeClock()
    link = LinkMonitor(clock, 10.0)
    clock.advance(100)
    assert link.update() is None and link.state is LinkState.NEVER_SEEN


def test_link_is_lost_after_the_timeout_and_regained_on_a_heartbeat():
    clock = FakeClock()
    link = LinkMonitor(clock, 10.0)
    change = link.heartbeat()
    assert (change.old, change.new) == (LinkState.NEVER_SEEN, LinkState.UP)
    clock.advance(10.0)
    assert link.update() is None  # exactly at the timeout is still up
    clock.advance(0.01)
    lost = link.update()
    assert lost.new is LinkState.LOST and lost.silent_s == pytest.approx(10.01)
    assert link.update() is None  # reported once
    clock.advance(3)
    back = link.heartbeat()
    assert (back.old, back.new) == (LinkState.LOST, LinkState.UP)
    assert back.silent_s == pytest.approx(13.01)
    assert link.heartbeat() is None and link.heartbeats == 3


def test_failsafe_holds_first_then_escalates_once_per_step():
    clock = FakeClock()
    escalation = FailsafeEscalation(clock, 'return_to_home', hold_s=5.0)
    assert escalation.due(busy=False) is None
    escalation.link_lost(silent_s=10.2)
    first = escalation.due(busy=False)
    assert first.action == 'hold' and first.params == {'duration_s': None}
    assert 'no heartbeat for 10.2 s' in first.rationale
    assert escalation.due(busy=False) is None
    clock.advance(4.9)
    assert escalation.due(busy=False) is None
    clock.advance(0.1)
    second = escalation.due(busy=False)
    assert second.action == 'return_to_home' and 'held 5 s' in second.rationale
    assert 'no heartbeat for 15.2 s' in second.rationale
    clock.advance(100)
    assert escalation.due(busy=False) is None


def test_failsafe_waits_for_a_decision_in_progress_and_clears_on_return():
    clock = FakeClock()
    escalation = FailsafeEscalation(clock, 'land', hold_s=5.0)
    escalation.link_lost()
    assert escalation.due(busy=True) is None
    assert escalation.due(busy=False).action == 'hold'
    escalation.clear()
    clock.advance(10)
    assert escalation.due(busy=False) is None and not escalation.active
    escalation.link_lost()  # a second loss starts over
    assert escalation.due(busy=False).action == 'hold'


def test_hold_as_the_failsafe_action_publishes_only_hold():
    clock = FakeClock()
    escalation = FailsafeEscalation(clock, 'hold', hold_s=1.0)
    escalation.link_lost()
    assert escalation.due(busy=False).action == 'hold'
    clock.advance(5)
    assert escalation.due(busy=False) is None


def test_unknown_failsafe_action_is_refused():
    with pytest.raises(ValueError, match='failsafe action must be none or one of'):
        FailsafeEscalation(FakeClock(), 'terminate')


def test_none_disables_and_reconfiguring_mid_escalation_takes_effect():
    clock = FakeClock()
    escalation = FailsafeEscalation(clock, 'none', hold_s=1.0)
    escalation.link_lost(3.0)
    assert escalation.due(busy=False) is None and not escalation.active
    escalation.configure('land', 1.0)
    assert escalation.active and escalation.due(busy=False).action == 'hold'
    clock.advance(1.0)
    assert escalation.due(busy=False).action == 'land'
    escalation.configure('none', 1.0)
    assert not escalation.active


def test_breaker_opens_after_consecutive_failures_and_half_opens_after_cooldown():
    clock = FakeClock()
    breaker = CircuitBreaker(clock, threshold=3, cooldown_s=30)
    assert not breaker.failure() and not breaker.failure()
    breaker.success()
    assert not breaker.failure() and not breaker.failure()
    assert breaker.failure() and breaker.state == 'open' and not breaker.allows()
    clock.advance(29.9)
    assert not breaker.allows() and breaker.retry_in_s() == pytest.approx(0.1)
    clock.advance(0.1)
    assert breaker.state == 'half_open' and breaker.allows()
    assert breaker.failure()  # the trial failed: open again for a full cooldown
    assert breaker.state == 'open'
    clock.advance(30)
    breaker.success()
    assert breaker.state == 'closed' and breaker.failures == 0


def test_chain_skips_a_source_with_an_open_breaker_then_retries_it():
    clock = FakeClock()
    remote = failing('remote', 'connection refused')
    breaker = CircuitBreaker(clock, threshold=2, cooldown_s=10)
    chain = FallbackChain([remote, ScriptedDecider('rules')], clock,
                          breakers={'remote': breaker})
    request = DecisionRequest(CommandInfo('c', 'hold', 0.0))
    for _ in range(2):
        assert chain.decide(request, Deadline(clock, 5)).attempts[0].outcome == 'error'
    skipped = chain.decide(request, Deadline(clock, 5)).attempts[0]
    assert skipped.outcome == 'skipped' and 'circuit open after 2 consecutive' in skipped.detail
    assert len(remote.requests) == 2
    clock.advance(10)
    remote.error = None
    result = chain.decide(request, Deadline(clock, 5))
    assert result.source == 'remote' and breaker.state == 'closed'


def test_rate_monitor_measures_the_window_and_remembers_the_last_arrival():
    clock = FakeClock()
    rate = RateMonitor(clock, expected_hz=10, window_s=2.0)
    assert rate.rate_hz() == 0 and rate.last_age_s() is None
    for _ in range(20):
        clock.advance(0.1)
        rate.tick()
    assert rate.rate_hz() == pytest.approx(10, abs=0.5)
    clock.advance(5)
    assert rate.rate_hz() == 0 and rate.last_age_s() == pytest.approx(5)
