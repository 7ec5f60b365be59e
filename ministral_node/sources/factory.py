"""Builds the decision sources named in `decision_sources` from parameter values.

The node and the command-line decider both use this, so they run the same chain.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ministral_node.health import ERROR, OK, HealthBoard
from ministral_node.sources.base import Decider, DeciderUnavailable

log = logging.getLogger(__name__)


def build_sources(values: Mapping[str, Any], health: HealthBoard | None = None,
                  names: list[str] | None = None) -> list[Decider]:
    """The sources in `names` (default: the `decision_sources` parameter), in order, loaded.

    A source whose model cannot load stays in the chain in a clearly reported degraded mode:
    ERROR in `health`, an error log line, and every decision records it as unavailable. A
    source that cannot even be built is left out, also logged and marked ERROR.
    """
    board = health or HealthBoard(_NoClock())
    built: list[Decider] = []
    for name in names or values['decision_sources']:
        try:
            decider = _build(name, values, board)
        except Exception as exc:  # noqa: BLE001 - any failure to build means degraded mode
            log.error('decision source %s cannot be built: %s', name, exc)
            board.set(name, ERROR, f'cannot be built: {exc}')
            continue
        try:
            decider.load()
        except DeciderUnavailable as exc:
            log.error('decision source %s degraded: %s', name, exc)
            board.set(name, ERROR, str(exc))
        else:
            info = decider.model_info()
            board.set(name, OK, 'ready' if info is None else
                      f'loaded {info.name} ({info.variant}) on {info.provider}')
        built.append(decider)
    return built


def _build(name: str, values: Mapping[str, Any], health: HealthBoard) -> Decider:
    # Imported here so a source's dependencies (onnxruntime, ...) load only when configured.
    if name == 'rules':
        from ministral_node.sources.rules import RuleDecider

        return RuleDecider()
    if name == 'onboard':
        from ministral_node.sources.onboard import OnboardDecider

        return OnboardDecider.from_params(values)
    if name == 'remote':
        from ministral_node.sources.remote import RemoteDecider

        return RemoteDecider.from_params(values, health)
    raise ValueError(f'unknown decision source {name!r}')


def configure_sources(sources: list[Decider], values: Mapping[str, Any]) -> None:
    """Pass live parameter changes to every source."""
    for source in sources:
        source.configure(values)


def close_sources(sources: list[Decider]) -> None:
    """Free what the sources hold (models, connections)."""
    for source in sources:
        source.close()


class _NoClock:
    def now(self) -> float:
        return 0.0
