"""What every decision source implements, and what it is given."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol

from ministral_node.camera import Frame
from ministral_node.clock import Deadline
from ministral_node.decision import CommandInfo, ModelInfo, Proposal


class DeciderError(RuntimeError):
    """A source could not decide; the message says why (logged, recorded in attempts)."""


class DeciderUnavailable(DeciderError):
    """A source is not there at all (no model loaded, no link)."""


class Cancelled(DeciderError):
    """A source stopped because its cancellation was requested or its deadline passed."""


@dataclass(frozen=True)
class DecisionRequest:
    """One operator command and the context a source may use to answer it."""

    command: CommandInfo
    frame: Frame | None = None


class Cancellation:
    """Cooperative cancellation: set by another thread, implied by a passed deadline, or
    inherited from a parent cancellation."""

    def __init__(self, deadline: Deadline | None = None,
                 parent: Cancellation | None = None) -> None:
        self.deadline = deadline
        self.parent = parent
        self._event = threading.Event()
        self._reason = ''

    def cancel(self, reason: str = 'cancelled') -> None:
        self._reason = reason
        self._event.set()

    @property
    def cancelled(self) -> bool:
        if self._event.is_set():
            return True
        if self.parent is not None and self.parent.cancelled:
            self._reason = self._reason or self.parent.reason
            return True
        if self.deadline is not None and self.deadline.expired():
            self._reason = self._reason or 'deadline passed'
            return True
        return False

    @property
    def reason(self) -> str:
        return self._reason

    def remaining(self) -> float:
        """Seconds left before the nearest deadline (infinite without one)."""
        own = float('inf') if self.deadline is None else self.deadline.remaining()
        return own if self.parent is None else min(own, self.parent.remaining())

    def check(self) -> None:
        """Raise `Cancelled` if cancellation was requested or the deadline passed."""
        if self.cancelled:
            raise Cancelled(self._reason)


class Watcher:
    """A daemon thread that runs `watch(stop)` for the life of a `with` block.

    Subclasses watch something (a cancellation, a socket) and act when it fires; `watch` must
    return soon after `stop` is set.
    """

    name = 'watcher'

    def __enter__(self) -> Watcher:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self.watch, args=(self._stop,), name=self.name,
                                        daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def watch(self, stop: threading.Event) -> None:
        raise NotImplementedError


class Decider(Protocol):
    """A decision source: rules, onboard model, remote model, failsafe."""

    source: str

    def decide(self, request: DecisionRequest, cancel: Cancellation) -> Proposal:
        """A proposal for the request, or raise DeciderError (or a subclass) saying why."""
        ...

    def model_info(self) -> ModelInfo | None:
        """Identity of the model behind this source, if any."""
        ...
