"""Shared test doubles: scripted decision sources and slow camera frames driven by an injected
clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ministral_node.camera import EncodedFrame, Frame
from ministral_node.decision import ModelInfo, Proposal
from ministral_node.sources.base import DeciderError, DecisionRequest, ModelFreeSource
from ministral_node.timing import Cancellation, FakeClock


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
