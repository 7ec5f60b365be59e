"""Shared test doubles: scripted decision sources and slow camera frames driven by an injected
clock."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from ministral_node.core.decision_loop import DecisionLoop
from ministral_node.core.settings import Settings
from ministral_node.decision import Decision, ModelInfo, Proposal
from ministral_node.inputs.camera import EncodedFrame, Frame
from ministral_node.mission.executor import ExecutorOutput
from ministral_node.sources.base import DeciderError, DecisionRequest, ModelFreeSource
from ministral_node.timing import Cancellation, Cancelled, FakeClock


class ScriptedDecider(ModelFreeSource):
    """A decision source whose behaviour a test sets: a proposal, an error, or a delay."""

    def __init__(self, source: str, proposal: Proposal | None = None, *,
                 error: Exception | None = None, clock: FakeClock | None = None,
                 takes_s: float = 0.0, honours_cancel: bool = True,
                 on_call: Callable[[DecisionRequest], None] | None = None) -> None:
        self.source = source
        self.proposal = proposal or Proposal('hold', {'duration_s': None}, None, 0.8, source)
        self.error = error
        self.clock = clock
        self.takes_s = takes_s
        self.honours_cancel = honours_cancel
        self.on_call = on_call
        self.requests: list[DecisionRequest] = []
        self.closed = False

    def decide(self, request: DecisionRequest, cancel: Cancellation) -> Proposal:
        self.requests.append(request)
        if self.on_call is not None:
            self.on_call(request)
        if self.takes_s and self.clock is not None:
            steps = max(1, round(self.takes_s / 0.01))  # like a decode loop checking per token
            for _ in range(steps):
                self.clock.advance(self.takes_s / steps)
                if self.honours_cancel:
                    cancel.check()
        if self.error is not None:
            raise self.error
        return self.proposal

    def model_info(self) -> ModelInfo | None:
        return ModelInfo(f'{self.source}-model', 'test', 'CPUExecutionProvider') \
            if self.source in ('onboard', 'remote') else None

    def close(self) -> None:
        self.closed = True


def failing(source: str, message: str = 'broken') -> ScriptedDecider:
    return ScriptedDecider(source, error=DeciderError(message))


@dataclass(frozen=True)
class SlowFrame(EncodedFrame):
    """An encoded frame whose decode takes `takes_s` on `clock` and may run `meanwhile`."""

    clock: FakeClock | None = None
    takes_s: float = 0.0
    meanwhile: Callable[[], None] | None = None

    def decode(self, max_pixels: int) -> Frame:
        self.clock.advance(self.takes_s)
        if self.meanwhile is not None:
            self.meanwhile()
        return super().decode(max_pixels)


LAND = Proposal('land', {}, None, 0.9, 'asked')


class LoopRig:
    """A decision loop with scripted sources, fake clocks, and lists of what it published
    (decisions) and executed (executor outputs).

    Reflexes are off unless `reflexes` is given: most loop tests queue plain commands ('land',
    'hover') to scripted sources to test the queue itself."""

    def __init__(self, sources=None, sim_time=False, **params):
        params.setdefault('reflexes', ['none'])
        self.clock = FakeClock()
        self.steady = FakeClock()
        self.published: list[Decision] = []
        self.executed: list[ExecutorOutput] = []
        self.wakes = 0
        self.sources = sources if sources is not None else [ScriptedDecider('rules', LAND)]
        self.loop = DecisionLoop(Settings.from_values(params), self.clock, self.published.append,
                                 wake=self._wake, steady=self.steady, stamp_clock=FakeClock(5.0),
                                 build=lambda settings, health: list(self.sources),
                                 sim_time=sim_time, execute=self.executed.append)

    def _wake(self):
        self.wakes += 1

    def actions(self):
        return [d.action for d in self.published]


class BlockingDecider(ModelFreeSource):
    """Decides only when cancelled (then raises), like a long generation."""

    source = 'onboard'

    def __init__(self) -> None:
        self.started = threading.Event()
        self.closed_while_running = False
        self.running = False
        self.closed = False

    def decide(self, request: DecisionRequest, cancel: Cancellation) -> Proposal:
        self.running = True
        self.started.set()
        try:
            while not cancel.cancelled:
                threading.Event().wait(0.005)
            raise Cancelled(cancel.reason)
        finally:
            self.running = False

    def close(self) -> None:
        self.closed_while_running = self.running
        self.closed = True
