"""The fallback chain: decision sources tried in order, each under its own deadline.

A source that fails, times out, or proposes something outside the contract hands over to the
next; the failsafe at the bottom always answers. Every try is recorded as an `Attempt`.
An optional `verify` callback judges each proposal
(`ministral_node.sources.rules.verify.Verifier`): it may accept it (possibly changed), hand over
to the next source, or choose another source's reading.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from ministral_node.core.settings import ChainSettings
from ministral_node.decision import (
    CANCELLED,
    UNVERIFIED,
    Attempt,
    DecisionError,
    ModelInfo,
    Proposal,
)
from ministral_node.sources.base import Decider, DeciderError, DeciderUnavailable, DecisionRequest
from ministral_node.sources.failsafe import FailsafeDecider
from ministral_node.sources.rules.verify import Verdict, Verifier
from ministral_node.timing import Cancellation, Cancelled, Clock, Deadline

log = logging.getLogger(__name__)


@dataclass
class CircuitBreaker:
    """Skips a failing source: opens after `threshold` consecutive failures, lets one try
    through after `cooldown_s` (half-open), closes on a success."""

    def __init__(self, clock: Clock, threshold: int = 3, cooldown_s: float = 30.0) -> None:
        self.clock = clock
        self.threshold = threshold
        self.cooldown_s = cooldown_s
        self.failures = 0
        self.opened_at: float | None = None
        self._lock = threading.Lock()

    def apply(self, threshold: int, cooldown_s: float) -> None:
        """Take a new failure threshold and cooldown; the current count and state stay."""
        with self._lock:
            self.threshold, self.cooldown_s = threshold, cooldown_s

    @property
    def state(self) -> str:
        """closed, open or half_open."""
        with self._lock:
            return self._state()

    def _state(self) -> str:
        if self.opened_at is None:
            return 'closed'
        if self.clock.now() - self.opened_at >= self.cooldown_s:
            return 'half_open'
        return 'open'

    def allows(self) -> bool:
        """Whether the source may be tried now."""
        with self._lock:
            return self._state() != 'open'

    def retry_in_s(self) -> float:
        with self._lock:
            if self.opened_at is None:
                return 0.0
            return max(0.0, self.cooldown_s - (self.clock.now() - self.opened_at))

    def success(self) -> None:
        with self._lock:
            self.failures = 0
            self.opened_at = None

    def failure(self) -> bool:
        """Record a failure; True if this opened (or re-opened) the breaker."""
        with self._lock:
            self.failures += 1
            state = self._state()
            if state == 'half_open' or (state == 'closed' and self.failures >= self.threshold):
                self.opened_at = self.clock.now()
                return True
            return False


@dataclass
class ChainResult:
    """The proposal the chain settled on, who made it, and every try on the way."""

    proposal: Proposal
    source: str
    model: ModelInfo | None
    attempts: list[Attempt] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what verification wants the operator to know


Verify = Callable[[str, DecisionRequest, Proposal], Verdict]


# Time kept back for a source while the ones above it run, so a slow model cannot use up the
# whole decision budget and leave the rule parser none.
DEFAULT_RESERVE_S = {'rules': 0.25}


class FallbackChain:
    """Tries `sources` in order under per-source timeouts, then the failsafe."""

    def __init__(self, sources: Sequence[Decider], clock: Clock,
                 timeouts_s: Mapping[str, float] | None = None,
                 failsafe: Decider | None = None,
                 reserve_s: Mapping[str, float] | None = None,
                 breakers: Mapping[str, CircuitBreaker] | None = None,
                 skip: Callable[[str], str | None] = lambda source: None,
                 verify: Verify | None = None) -> None:
        self.sources = list(sources)
        self.verify = verify
        self.breakers = dict(breakers or {})
        self.skip = skip
        self.clock = clock
        self.timeouts_s = dict(timeouts_s or {})
        self.failsafe = failsafe or FailsafeDecider()
        self.reserve_s = dict(DEFAULT_RESERVE_S if reserve_s is None else reserve_s)

    def decide(self, request: DecisionRequest, deadline: Deadline,
               cancel: Cancellation | None = None) -> ChainResult:
        """A proposal from the first source that gives a valid one in time.

        A source is skipped when `skip(source)` gives a reason (the link is down), its circuit
        breaker is open, or no time is left for it.
        """
        attempts: list[Attempt] = []
        for index, decider in enumerate(self.sources):
            kept_back = sum(self.reserve_s.get(later.source, 0.0)
                            for later in self.sources[index + 1:])
            budget = min(deadline.remaining() - kept_back,
                         self.timeouts_s.get(decider.source, math.inf))
            if cancel is not None and cancel.cancelled:
                attempts.append(Attempt(decider.source, 'skipped', cancel.reason))
                continue
            if budget <= 0:
                attempts.append(Attempt(decider.source, 'skipped', 'no time left'))
                continue
            reason = self.skip(decider.source)
            if reason is not None:
                attempts.append(Attempt(decider.source, 'skipped', reason))
                continue
            breaker = self.breakers.get(decider.source)
            if breaker is not None and not breaker.allows():
                attempts.append(Attempt(
                    decider.source, 'skipped',
                    f'circuit open after {breaker.failures} consecutive failures; '
                    f'retry in {breaker.retry_in_s():.1f} s'))
                continue
            proposal, attempt = self._try(decider, request, budget, cancel)
            attempts.append(attempt)
            if breaker is not None and attempt.outcome != CANCELLED:
                if proposal is not None:
                    breaker.success()
                elif breaker.failure():
                    log.warning('source %s: circuit opened after %d consecutive failures',
                                decider.source, breaker.failures)
            if proposal is not None and self.verify is not None:
                result = self._verified(decider, request, proposal, attempts)
                if result is not None:
                    return result
            elif proposal is not None:
                return ChainResult(proposal, decider.source, decider.model_info(), attempts)
        proposal, attempt = self._try(self.failsafe, request, math.inf, None)
        attempts.append(attempt)
        if proposal is None:  # a failsafe that fails is a bug; still never leave without one
            proposal = FailsafeDecider().decide(request, Cancellation())
        return ChainResult(proposal, self.failsafe.source, None, attempts)

    def _verified(self, decider: Decider, request: DecisionRequest, proposal: Proposal,
                  attempts: list[Attempt]) -> ChainResult | None:
        """The result once `verify` judged `proposal` (recorded in the last attempt), or None
        to go on with the next source."""
        start = self.clock.now()
        verdict = self.verify(decider.source, request, proposal)
        tried = attempts[-1]
        spent = tried.latency_ms + (self.clock.now() - start) * 1000.0
        if verdict.proposal is None:
            attempts[-1] = Attempt(tried.source, UNVERIFIED, verdict.detail, spent)
            log.info('source %s: %s', decider.source, verdict.detail)
            return None
        if verdict.source is not None and verdict.source != decider.source:
            attempts[-1] = Attempt(tried.source, UNVERIFIED, verdict.detail, spent)
            attempts.append(Attempt(verdict.source, 'ok', 'reading chosen by verification'))
            return ChainResult(verdict.proposal, verdict.source, None, attempts,
                               list(verdict.notes))
        attempts[-1] = Attempt(tried.source, tried.outcome, verdict.detail, spent)
        return ChainResult(verdict.proposal, decider.source, decider.model_info(), attempts,
                           list(verdict.notes))

    def _try(self, decider: Decider, request: DecisionRequest, budget_s: float,
             parent: Cancellation | None) -> tuple[Proposal | None, Attempt]:
        source = decider.source
        own = Cancellation(Deadline(self.clock, budget_s) if math.isfinite(budget_s) else None,
                           parent)
        start = self.clock.now()

        def attempt(outcome: str, detail: str) -> Attempt:
            return Attempt(source, outcome, detail, (self.clock.now() - start) * 1000.0)

        try:
            proposal = decider.decide(request, own).validate()
        except Cancelled as exc:
            if parent is not None and parent.requested:  # stopped from outside, not late
                return None, attempt(CANCELLED, parent.reason or str(exc))
            return None, attempt('timeout', f'stopped after {budget_s:.3g} s budget: {exc}')
        except DeciderUnavailable as exc:
            return None, attempt('unavailable', str(exc))
        except DeciderError as exc:
            return None, attempt('error', str(exc))
        except DecisionError as exc:
            return None, attempt('invalid', str(exc))
        except Exception as exc:  # a broken source must not stop the chain
            log.exception('decision source %s raised', source)
            return None, attempt('error', f'{type(exc).__name__}: {exc}')
        if parent is not None and parent.requested:
            return None, attempt(CANCELLED, f'{parent.reason}; result discarded')
        if own.cancelled:
            return None, attempt('timeout', f'answered after its {budget_s:.3g} s budget; '
                                            'late result discarded')
        return proposal, attempt('ok', '')

    def apply(self, settings: ChainSettings) -> None:
        """Take new per-source deadlines and circuit-breaker settings."""
        self.timeouts_s = dict(settings.timeouts_s)
        for breaker in self.breakers.values():
            breaker.apply(settings.breaker_failures, settings.breaker_cooldown_s)
        self.verify = None if settings.verify is None else Verifier(settings.verify)
