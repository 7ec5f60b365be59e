"""What every decision source implements, and what it is given."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ministral_node.camera import Frame
from ministral_node.decision import CommandInfo, ModelInfo, Proposal
from ministral_node.timing import Cancellation


class DeciderError(RuntimeError):
    """A source could not decide; the message says why (logged, recorded in attempts)."""


class DeciderUnavailable(DeciderError):
    """A source is not there at all (no model loaded, no link)."""


@dataclass(frozen=True)
class DecisionRequest:
    """One operator command and the context a source may use to answer it."""

    command: CommandInfo
    frame: Frame | None = None


class Decider(Protocol):
    """A decision source: rules, onboard model, remote model, failsafe."""

    source: str

    def decide(self, request: DecisionRequest, cancel: Cancellation) -> Proposal:
        """A proposal for the request, or raise DeciderError (or a subclass) saying why."""
        ...

    def model_info(self) -> ModelInfo | None:
        """Identity of the model behind this source, if any."""
        ...
