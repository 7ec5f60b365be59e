"""Builds the decision sources named in `decision_sources` from parameter values.

The node and the command-line decider both use this, so they run the same chain.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ministral_node.deciders import Decider
from ministral_node.health import ERROR, OK, HealthBoard

log = logging.getLogger(__name__)


def build_sources(values: Mapping[str, Any], health: HealthBoard | None = None,
                  names: list[str] | None = None) -> list[Decider]:
    """The sources in `names` (default: the `decision_sources` parameter), in order.

    A source that cannot be built is left out, logged and marked ERROR in `health`; the chain
    then decides with the rest (degraded mode), never crashes.
    """
    built: list[Decider] = []
    for name in names or values['decision_sources']:
        try:
            decider = _build(name, values)
        except Exception as exc:  # noqa: BLE001 - any failure to build means degraded mode
            log.error('decision source %s unavailable: %s', name, exc)
            if health is not None:
                health.set(name, ERROR, f'unavailable: {exc}')
            continue
        if health is not None:
            health.set(name, OK, 'ready')
        built.append(decider)
    return built


def _build(name: str, values: Mapping[str, Any]) -> Decider:
    # Imported here so a source's dependencies load only when it is configured.
    if name == 'rules':
        from ministral_node.rules import RuleDecider

        return RuleDecider()
    raise ValueError(f'unknown decision source {name!r}')


def close_sources(sources: list[Decider]) -> None:
    """Free what the sources hold (models, connections)."""
    for source in sources:
        close = getattr(source, 'close', None)
        if close is not None:
            close()
