"""Typed settings, built once from validated parameter values.

Every component takes the part it reads through one `apply(settings)`, so nothing sets another
component's attributes from outside and a parameter change reaches each component the same way
at start and at run time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ministral_node import parameters
from ministral_node.safety.envelope import SafetyLimits
from ministral_node.sources.rules.verify import VerifySettings


@dataclass(frozen=True)
class PipelineSettings:
    """What the decision pipeline reads."""

    max_command_chars: int = 2000
    max_frame_age_s: float = 1.0
    decision_timeout_s: float = 10.0
    rules_fast_path: bool = True  # complete rule readings decided without the model


@dataclass(frozen=True)
class ChainSettings:
    """The fallback chain's per-source deadlines, circuit breakers and verify stage."""

    timeouts_s: Mapping[str, float]
    breaker_failures: int = 3
    breaker_cooldown_s: float = 30.0
    verify: VerifySettings | None = None  # None: proposals are not cross-checked


@dataclass(frozen=True)
class WatchdogSettings:
    """Link loss, failsafe escalation and camera supervision."""

    link_loss_timeout_s: float = 10.0
    failsafe_action: str = 'return_to_home'
    failsafe_hold_s: float = 5.0
    camera_expected_rate_hz: float = 10.0
    max_frame_age_s: float = 1.0


@dataclass(frozen=True)
class LoopSettings:
    """The decision loop's command queue and frame store."""

    command_queue_depth: int = 4
    max_image_pixels: int = 40_000_000
    reflexes: tuple[str, ...] = parameters.REFLEX_CHOICES
    reflex_hold_keeps_queue: bool = False


@dataclass(frozen=True)
class Settings:
    """Everything the node's core reads, typed; `values` keeps the validated values for the
    decision sources, which take their own settings from them."""

    values: Mapping[str, parameters.Value]
    pipeline: PipelineSettings
    chain: ChainSettings
    limits: SafetyLimits
    watchdog: WatchdogSettings
    loop: LoopSettings

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> Settings:
        """Settings from parameter values (missing ones at their defaults); raises
        `parameters.ParameterError` naming the first problem."""
        v = parameters.validate({**parameters.defaults(), **values})
        return cls(
            values=v,
            pipeline=PipelineSettings(v['max_command_chars'], v['max_frame_age_s'],
                                      v['decision_timeout_s'],
                                      v['rules_fast_path'] and v['arbitration'] == 'verify'),
            chain=ChainSettings({s: v[f'{s}_timeout_s'] for s in parameters.SOURCE_CHOICES},
                                v['breaker_failures'], v['breaker_cooldown_s'],
                                VerifySettings.from_params(v)),
            limits=SafetyLimits.from_validated(v),
            watchdog=WatchdogSettings(v['link_loss_timeout_s'], v['failsafe_action'],
                                      v['failsafe_hold_s'], v['camera_expected_rate_hz'],
                                      v['max_frame_age_s']),
            loop=LoopSettings(v['command_queue_depth'], v['max_image_pixels'],
                              tuple(a for a in v['reflexes'] if a != 'none'),
                              v['reflex_hold_keeps_queue']),
        )

    def with_changes(self, changes: Mapping[str, Any]) -> Settings:
        """New settings with `changes` applied, validated as a whole."""
        return Settings.from_values({**self.values, **changes})


def defaults() -> Settings:
    """Settings with every parameter at its default."""
    return Settings.from_values({})
