"""Scenarios and suites: what to say to the node, when, in which world, with which faults, and
what must be true of the simulated world at the end.

A suite is a YAML file (`config/sim_suite.yaml` is the default one):

    defaults:                # merged under every scenario (dicts merge one level deep)
      duration_s: 60
      world: {seed: 0, clutter: 6}
      params: {}             # node parameter overrides for every scenario
    scenarios:
      - name: takeoff_en
        language: en
        category: single     # single, mission, visual, fault (free text; tables group by it)
        commands: [{at: 2, text: "take off to 20 meters"}]
        expect: {final_altitude_m: 20}
        world: {seed: 4, objects: [{kind: pad, color: red, east: 0, north: 20}]}
        faults: [{kind: link_loss, at: 30}]
        speed: 1             # at most real time (the node's watchdog runs on the steady clock)
        camera: {pitch_deg: 45}
        params: {max_altitude_m: 50}
        interfaces: [px4, mavros]   # fly only through these vehicle interfaces (default: all)

`visual` is true when an expectation needs the camera (a target named in the world); it can
be given explicitly. Expectations are listed in `ministral_node.sim.scoring.CRITERIA`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ministral_node.resources import config_path
from ministral_node.sim.faults import AUTOPILOT_KINDS, Fault

LANGUAGES = ('en', 'fr', 'de', 'es', 'it')
# The node's vehicle interfaces a scenario can fly through (`ministral-sim --vehicle`).
INTERFACES = ('json', 'px4', 'mavros')
DEFAULT_SUITE = config_path('sim_suite.yaml')
# Expectations that need the camera to be met.
VISUAL_EXPECTATIONS = frozenset({'landed_near', 'near_object'})


class SuiteError(ValueError):
    """A suite file that cannot be used; the message names the scenario and the field."""


@dataclass(frozen=True)
class Command:
    """An operator command sent on the node's `~/command` at simulated time `at`."""

    at: float
    text: str


@dataclass(frozen=True)
class Scenario:
    """One scored flight."""

    name: str
    language: str
    category: str
    commands: tuple[Command, ...]
    expect: dict[str, Any]
    duration_s: float = 60.0
    world: dict[str, Any] = field(default_factory=dict)
    faults: tuple[Fault, ...] = ()
    camera: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    vehicle: dict[str, Any] = field(default_factory=dict)
    visual: bool = False
    description: str = ''
    speed: float | None = None  # at most this real-time factor (timing-critical scenarios)
    interfaces: tuple[str, ...] = INTERFACES  # the vehicle interfaces it flies through

    def flies_with(self, interface: str) -> bool:
        """Whether the scenario is flown through this vehicle interface."""
        return interface in self.interfaces


def _merge(defaults: dict, item: dict) -> dict:
    merged = copy.deepcopy(defaults)
    for key, value in item.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def scenario_from_dict(data: dict[str, Any]) -> Scenario:
    """A scenario from its (defaults-merged) YAML mapping; SuiteError says what is wrong."""
    from ministral_node.sim.scoring import CRITERIA

    name = str(data.get('name') or '')
    where = f'scenario {name or "?"}'
    if not name:
        raise SuiteError(f'{where}: name is required')
    language = data.get('language')
    if language not in LANGUAGES:
        raise SuiteError(f'{where}: language {language!r} is not one of {", ".join(LANGUAGES)}')
    commands = []
    for item in data.get('commands') or []:
        if not isinstance(item, dict) or 'text' not in item:
            raise SuiteError(f'{where}: each command needs text (and at, seconds)')
        commands.append(Command(float(item.get('at', 0.0)), str(item['text'])))
    expect = dict(data.get('expect') or {})
    if not expect:
        raise SuiteError(f'{where}: expect is required (what must be true at the end)')
    unknown = sorted(set(expect) - set(CRITERIA))
    if unknown:
        raise SuiteError(f'{where}: unknown expectation(s) {unknown}; known: '
                         f'{", ".join(sorted(CRITERIA))}')
    try:
        faults = tuple(Fault.from_dict(f) for f in data.get('faults') or [])
    except (ValueError, TypeError) as exc:
        raise SuiteError(f'{where}: {exc}') from exc
    interfaces = tuple(str(i) for i in data.get('interfaces') or INTERFACES)
    unknown = sorted(set(interfaces) - set(INTERFACES))
    if unknown:
        raise SuiteError(f'{where}: unknown interface(s) {unknown}; known: '
                         f'{", ".join(INTERFACES)}')
    injected = sorted({f.kind for f in faults} & set(AUTOPILOT_KINDS))
    if injected and 'json' in interfaces:
        raise SuiteError(f'{where}: fault(s) {injected} are injected into the simulated '
                         'autopilot: list interfaces without json (e.g. [px4, mavros])')
    visual = data.get('visual')
    if visual is None:
        visual = bool(VISUAL_EXPECTATIONS & set(expect))
    return Scenario(name, language, str(data.get('category', 'single')),
                    tuple(sorted(commands, key=lambda c: c.at)), expect,
                    float(data.get('duration_s', 60.0)), dict(data.get('world') or {}), faults,
                    dict(data.get('camera') or {}), dict(data.get('params') or {}),
                    dict(data.get('vehicle') or {}), bool(visual),
                    str(data.get('description', '')),
                    None if data.get('speed') is None else float(data['speed']), interfaces)


def _read_suite(path: str | Path) -> dict:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding='utf-8')) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise SuiteError(f'{path}: {exc}') from exc
    if not isinstance(data, dict):
        raise SuiteError(f'{path}: not a mapping of defaults, scenarios and lists')
    return data


def suite_params(path: str | Path = DEFAULT_SUITE) -> dict:
    """The node parameters every scenario of a suite starts from (`defaults: params`), e.g.
    the simulated world's detector and its inputs."""
    return dict((_read_suite(path).get('defaults') or {}).get('params') or {})


def load_suite(path: str | Path = DEFAULT_SUITE, names: list[str] | None = None,
               subset: str | None = None) -> list[Scenario]:
    """Every scenario of a suite file; only `names` when given, or those of a named list
    at the top of the file (`subset`, e.g. `showcase: [name, ...]`), in the file's order."""
    data = _read_suite(path)
    defaults = data.get('defaults') or {}
    items = data.get('scenarios') or []
    if not isinstance(items, list):
        raise SuiteError(f'{path}: scenarios must be a list')
    scenarios = [scenario_from_dict(_merge(defaults, item)) for item in items]
    seen: set[str] = set()
    for scenario in scenarios:
        if scenario.name in seen:
            raise SuiteError(f'{path}: scenario name {scenario.name} is used twice')
        seen.add(scenario.name)
    if subset:
        listed = data.get(subset)
        if subset in ('defaults', 'scenarios') or not isinstance(listed, list):
            raise SuiteError(f'{path}: no list of scenario names called {subset!r}')
        names = [*(names or []), *map(str, listed)]
    if names:
        missing = sorted(set(names) - seen)
        if missing:
            raise SuiteError(f'{path}: no scenario named {", ".join(missing)}')
        scenarios = [s for s in scenarios if s.name in names]
    return scenarios
