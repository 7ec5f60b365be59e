"""What every decision source implements, and what it is given."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ministral_node.decision import CommandInfo, ModelInfo, Proposal
from ministral_node.inputs.camera import Frame
from ministral_node.perception.service import Scene
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
    scene: Scene | None = None  # the object detector's detections in `frame`, when it ran


class Decider(Protocol):
    """A decision source: rules, onboard model, remote model, failsafe."""

    source: str

    def decide(self, request: DecisionRequest, cancel: Cancellation) -> Proposal:
        """A proposal for the request, or raise DeciderError (or a subclass) saying why."""
        ...

    def model_info(self) -> ModelInfo | None:
        """Identity of the model behind this source, if any."""
        ...

    def load(self) -> None:
        """Load what the source needs (on activate); raise DeciderUnavailable if it cannot:
        the source then stays in the chain in a reported degraded mode."""
        ...

    def configure(self, values: Mapping[str, Any]) -> None:
        """Take live parameter changes (validated values)."""
        ...

    def close(self) -> None:
        """Free what the source holds (models, connections); on deactivate."""
        ...


class ModelFreeSource:
    """Base of the sources with nothing to load or free (rules, failsafe)."""

    def model_info(self) -> ModelInfo | None:
        """None: no model behind this source."""
        return None

    def load(self) -> None:
        """Nothing to load."""

    def configure(self, values: Mapping[str, Any]) -> None:
        """No parameters of its own."""

    def close(self) -> None:
        """Nothing to free."""
