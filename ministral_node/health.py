"""Per-component health (camera, command, sources, safety, link) behind /diagnostics.

Components set a base level and message; errors are recorded as events that keep the
component at ERROR for `hold_s`, so a bad frame between two diagnostics messages is still seen.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from ministral_node.timing import Clock

# Same values as diagnostic_msgs/DiagnosticStatus levels.
OK, WARN, ERROR, STALE = 0, 1, 2, 3
LEVEL_NAMES = {OK: 'OK', WARN: 'WARN', ERROR: 'ERROR', STALE: 'STALE'}


@dataclass
class ComponentHealth:
    """What /diagnostics says about one component."""

    name: str
    level: int = STALE
    message: str = 'no data yet'
    values: dict[str, str] = field(default_factory=dict)


@dataclass
class _Component:
    level: int = STALE
    message: str = 'no data yet'
    values: dict[str, str] = field(default_factory=dict)
    errors_total: int = 0
    last_error: str = ''
    last_error_at: float | None = None


class HealthBoard:
    """Thread-safe store of component health, read by the diagnostics publisher."""

    def __init__(self, clock: Clock, hold_s: float = 5.0) -> None:
        self._clock = clock
        self.hold_s = hold_s
        self._components: dict[str, _Component] = {}
        self._lock = threading.Lock()

    def _get(self, name: str) -> _Component:
        return self._components.setdefault(name, _Component())

    def set(self, name: str, level: int, message: str, **values: object) -> None:
        """Set a component's steady level and message, and update its key values."""
        with self._lock:
            component = self._get(name)
            component.level, component.message = level, message
            component.values.update({k: str(v) for k, v in values.items()})

    def values(self, name: str, **values: object) -> None:
        """Update key values without touching the level."""
        with self._lock:
            self._get(name).values.update({k: str(v) for k, v in values.items()})

    def error(self, name: str, message: str) -> None:
        """Record an error event: the component shows ERROR with it for `hold_s`."""
        with self._lock:
            component = self._get(name)
            component.errors_total += 1
            component.last_error = message
            component.last_error_at = self._clock.now()

    def level(self, name: str) -> int:
        return self.snapshot_of(name).level

    def snapshot_of(self, name: str) -> ComponentHealth:
        with self._lock:
            return self._view(name, self._get(name))

    def snapshot(self) -> list[ComponentHealth]:
        """Every component's current health, in registration order."""
        with self._lock:
            return [self._view(name, c) for name, c in self._components.items()]

    def _view(self, name: str, component: _Component) -> ComponentHealth:
        values = dict(component.values)
        level, message = component.level, component.message
        if component.errors_total:
            values['errors_total'] = str(component.errors_total)
            values['last_error'] = component.last_error
            age = self._clock.now() - component.last_error_at
            values['last_error_age_s'] = f'{age:.1f}'
            if age <= self.hold_s and level != ERROR:
                level, message = ERROR, component.last_error
        return ComponentHealth(name, level, message, values)
