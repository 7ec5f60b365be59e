"""`ministral-eval`: measure a model directory on the held-out split, beside the rule parser.

    ministral-eval [MODEL_DIR] [--count 500] [--seed 1] [--json report.json]
    ministral-eval [MODEL_DIR] --set handwritten|casual|quantities [--show-failures SOURCE]
    ministral-eval --set detector [--detector PATH] [--frames DIR]   # the object detector

Held-out examples use other seeds and only paraphrase templates never seen in training. Each
is decided the way the node decides: the real engine and `OnboardDecider` (constrained
decoding, greedy). The rule parser (`ministral_node.sources.rules.parse_command`) runs on the same
commands when it is installed. Metrics per language: schema validity, action accuracy, numeric
parameters exact after rounding to the schema's 0.01 precision, and target box IoU.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from ministral_node import parameters
from ministral_node.decision import MISSION, DecisionError, Proposal, steps_of
from ministral_node.inputs.vehicle import STATE_HELP, VehicleState
from ministral_node.sources.base import DeciderError
from ministral_node.sources.onboard import OnboardDecider, resolve_model_dir
from ministral_node.timing import Cancellation, Cancelled
from ministral_node.training import handwritten
from ministral_node.training.dataset import (
    Example,
    Split,
    canonical,
    make_example,
    target_box,
)
from ministral_node.training.encoding import request_for
from ministral_node.training.templates import LANGUAGES

DEMO_MODEL = 'models/ministral-3-drone-demo'
GOALS = {'action_accuracy': 0.95, 'numeric_exact': 0.90, 'iou_at_0.5': 0.80}
DETECTOR_SET = 'detector'  # --set detector: the object detector, not the language model


@dataclass
class Outcome:
    """How one decision compares with the expected one (None: the metric does not apply)."""

    language: str
    valid: bool
    action_ok: bool
    numeric_ok: bool | None
    iou: float | None
    seconds: float = 0.0


def iou(a: Iterable[float] | None, b: Iterable[float] | None) -> float:
    """Intersection over union of two [x_min, y_min, x_max, y_max] boxes (0 if one is None)."""
    if a is None or b is None:
        return 0.0
    ax0, ay0, ax1, ay1 = a
    bx0, by0, bx1, by1 = b
    inter = max(0.0, min(ax1, bx1) - max(ax0, bx0)) * max(0.0, min(ay1, by1) - max(ay0, by0))
    union = (ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter
    return inter / union if union > 0 else 0.0


def _numbers(proposal: Proposal) -> dict:
    """Numeric params, a mission's keyed by step (`2.altitude_m`)."""
    steps = steps_of(proposal)
    prefix = len(steps) > 1 or proposal.action == MISSION
    return {(f'{i}.{k}' if prefix else k): canonical(v)
            for i, step in enumerate(steps) for k, v in step.params.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)}


def _shape(proposal: Proposal) -> tuple:
    """The action, a mission's step actions, and each step's param names."""
    return proposal.action, tuple((step.action, frozenset(step.params))
                                  for step in steps_of(proposal))


def compare(example: Example, proposal: Proposal | None, seconds: float = 0.0) -> Outcome:
    """Score one proposal (None: no valid proposal) against the example's decision. A mission
    is right when every step's action is; its numbers when every step's are."""
    expected = example.proposal
    wanted = _numbers(expected)
    numeric = None if not wanted else False
    iou_value = 0.0 if example.grounded else None
    if proposal is None:
        return Outcome(example.language, False, False, numeric, iou_value, seconds)
    action_ok = proposal.action == expected.action and \
        [s.action for s in steps_of(proposal)] == [s.action for s in steps_of(expected)]
    if wanted:
        numeric = action_ok and _numbers(proposal) == wanted and \
            _shape(proposal) == _shape(expected)
    if example.grounded:
        iou_value = iou(target_box(proposal), example.box)
    return Outcome(example.language, True, action_ok, numeric, iou_value, seconds)


def run_model(model_dir: str | Path, examples: list[Example], max_image_edge: int = 448,
              progress: Callable[[int], None] | None = None) -> list[Outcome]:
    """Decide every example with the onboard decider (greedy) and score it."""
    values = parameters.validate({**parameters.defaults(), 'model_dir': str(model_dir),
                                  'execution_providers': ['cpu'], 'temperature': 0.0,
                                  'max_image_edge': max_image_edge})
    decider = OnboardDecider.from_params(values)
    decider.load()
    outcomes = []
    try:
        for i, example in enumerate(examples):
            began = time.perf_counter()
            try:
                proposal = decider.decide(request_for(example), Cancellation())
            except (DeciderError, Cancelled):
                proposal = None
            outcomes.append(compare(example, proposal, time.perf_counter() - began))
            if progress is not None:
                progress(i + 1)
    finally:
        decider.close()
    return outcomes


def rule_parser() -> Callable[[str], Proposal] | None:
    """`parse_command` of the rule-based parser, or None where it is not installed."""
    try:
        from ministral_node.sources.rules import parse_command
    except ImportError:
        return None
    return parse_command


def run_rules(parse: Callable[[str], Proposal], examples: list[Example]) -> list[Outcome]:
    """Score the rule parser on the same commands (it sees no image)."""
    outcomes = []
    for example in examples:
        began = time.perf_counter()
        try:
            proposal = parse(example.command)
            proposal.validate()
        except DecisionError:
            proposal = None
        outcomes.append(compare(example, proposal, time.perf_counter() - began))
    return outcomes


def summarise(outcomes: list[Outcome]) -> dict[str, dict[str, float]]:
    """Metrics per language and over all ('all')."""
    table = {}
    for language in (*LANGUAGES, 'all'):
        rows = [o for o in outcomes if language in ('all', o.language)]
        if not rows:
            continue
        numeric = [o.numeric_ok for o in rows if o.numeric_ok is not None]
        ious = [o.iou for o in rows if o.iou is not None]
        table[language] = {
            'n': len(rows),
            'valid': sum(o.valid for o in rows) / len(rows),
            'action_accuracy': sum(o.action_ok for o in rows) / len(rows),
            'numeric_n': len(numeric),
            'numeric_exact': sum(numeric) / len(numeric) if numeric else float('nan'),
            'grounded_n': len(ious),
            'iou_at_0.5': sum(v >= 0.5 for v in ious) / len(ious) if ious else float('nan'),
            'mean_iou': sum(ious) / len(ious) if ious else float('nan'),
            'median_s': sorted(o.seconds for o in rows)[len(rows) // 2],
        }
    return table


def meets_goals(table: dict[str, dict[str, float]]) -> list[str]:
    """The goals missed, per language ([] when every language meets every goal)."""
    missed = []
    for language, row in table.items():
        for metric, goal in GOALS.items():
            if row[metric] == row[metric] and row[metric] < goal:  # nan: no such cases
                missed.append(f'{language} {metric} {row[metric]:.3f} < {goal}')
    return missed


def markdown(tables: dict[str, dict[str, dict[str, float]]]) -> str:
    """A markdown table: one row per (language, source)."""
    lines = ['| language | source | n | valid | action | numeric exact (n) | '
             'IoU>=0.5 (n) | mean IoU | median s |', '|' + '---|' * 9]
    for language in (*LANGUAGES, 'all'):
        for source, table in tables.items():
            row = table.get(language)
            if row is None:
                continue
            lines.append(
                f'| {language} | {source} | {row["n"]} | {row["valid"]:.1%} | '
                f'{row["action_accuracy"]:.1%} | {row["numeric_exact"]:.1%} '
                f'({row["numeric_n"]}) | {row["iou_at_0.5"]:.1%} ({row["grounded_n"]}) | '
                f'{row["mean_iou"]:.2f} | {row["median_s"]:.3f} |')
    return '\n'.join(lines)


def heldout_examples(count: int, seed: int = 1) -> list[Example]:
    """The first `count` held-out examples of `seed` (balanced over the five languages)."""
    split = Split('heldout', seed)
    return [make_example(split, i) for i in range(count)]


def parser() -> argparse.ArgumentParser:
    """`ministral-eval`'s arguments (the entry point is `cli/ministral_eval.py`, which also serves
    `--set detector`)."""
    parser = argparse.ArgumentParser(prog='ministral-eval', description=__doc__.split('\n')[0])
    parser.add_argument('model_dir', nargs='?', default=DEMO_MODEL,
                        help=f'model directory (default: {DEMO_MODEL} of the package)')
    parser.add_argument('--count', type=int, default=500, help='held-out examples')
    parser.add_argument('--seed', type=int, default=1, help='held-out seed (training uses 0)')
    parser.add_argument('--max-image-edge', type=int, default=448,
                        help="the node's max_image_edge (the model's own limit applies too)")
    parser.add_argument('--no-rules', action='store_true', help='skip the rule parser')
    parser.add_argument('--json', help='write the tables and goals check to this file')
    parser.add_argument('--check-goals', action='store_true',
                        help='exit 1 if the model misses a goal in any language')
    parser.add_argument('--set', choices=('heldout', *handwritten.SETS, DETECTOR_SET),
                        default='heldout',
                        help='held-out synthetic split, or a hand-written set: handwritten '
                             '(test/data/handwritten.yaml), casual (casual_speech.yaml: radio '
                             'and chat phrasing), quantities (quantities.yaml: every unit form, '
                             'with a wrong-quantities column); model, rules and the default '
                             'chain with and without verification; or detector: the object '
                             "detector's mAP@0.5 per class on held-out simulator renders, run as "
                             'the simulator suite runs it (config/sim_suite.yaml)')
    parser.add_argument('--detector', type=Path,
                        help="detector: ONNX file or model folder (default: the suite's)")
    parser.add_argument('--frames', type=Path,
                        help='detector: folder caching the rendered held-out frames')
    parser.add_argument('--missions-as', default='mission',
                        help='handwritten: the action multi-step commands expect (mission, '
                             'contract 1.1.0; clarify scores them as before missions)')
    parser.add_argument('--show-failures',
                        choices=(*handwritten.SOURCES, handwritten.PUBLISHED),
                        help='handwritten: list the commands this source got wrong')
    parser.add_argument('--state', default='', metavar='KEY=VALUE,...',
                        help=f'handwritten: {STATE_HELP}; the default chain with verification '
                             'is then also scored as published after the safety envelope in '
                             "that state (source 'published')")
    parser.add_argument('--param', action='append', default=[], metavar='NAME=VALUE',
                        help='handwritten: override a node parameter (YAML value), e.g. '
                             'arbitration=model_first; repeatable')
    return parser


def run(args: argparse.Namespace) -> int:
    """Evaluate the language model (and the rule parser) as `args` say (`parser()`'s, with
    `vehicle`: the `--state` parsed): the held-out split or a hand-written set. Exit code: 1
    when `--check-goals` and a goal is missed."""
    if args.set == DETECTOR_SET:
        raise ValueError('--set detector is the ministral-eval command\'s (cli/ministral_eval.py)')
    model_dir = resolve_model_dir(args.model_dir)
    if args.set in handwritten.SETS:
        return _handwritten(model_dir, args)
    examples = heldout_examples(args.count, args.seed)
    began = time.monotonic()
    tables = {'model': summarise(run_model(model_dir, examples, args.max_image_edge))}
    model_s = time.monotonic() - began
    parse = None if args.no_rules else rule_parser()
    if parse is not None:
        tables['rules'] = summarise(run_rules(parse, examples))
    elif not args.no_rules:
        print('note: the rule parser is not installed; it is not compared',
              file=sys.stderr)
    print(f'{model_dir.name}: {len(examples)} held-out examples (seed {args.seed}) in '
          f'{model_s:.0f} s')
    print(markdown(tables))
    missed = meets_goals(tables['model'])
    print('goals met in every language' if not missed else 'goals missed: ' + '; '.join(missed))
    if args.json:
        Path(args.json).write_text(json.dumps({'model_dir': str(model_dir), 'count': args.count,
                                               'seed': args.seed, 'tables': tables,
                                               'goals': GOALS, 'missed': missed}, indent=2),
                                   encoding='utf-8')
    return 1 if args.check_goals and missed else 0


def run_set(model_dir: str | Path, name: str = 'handwritten', missions_as: str = 'mission',
            max_image_edge: int = 448, changes: dict | None = None,
            vehicle: VehicleState | None = None,
            ) -> tuple[list[handwritten.Case], handwritten.Run, dict]:
    """Decide a hand-written set (`handwritten.SETS`) with the model, the rules and the default
    chain (`config/ministral.yaml` plus `changes`) with and without verification, the model
    greedy on CPU with the demo camera frame (with `vehicle`: also as published after the
    safety envelope in that state): the cases, their scores and the parameters."""
    from ministral_node.resources import config_path
    from ministral_node.training.scenes import demo_scene

    values = parameters.load_params_file(config_path('ministral.yaml'))
    values = parameters.with_changes(values, {**(changes or {}), 'model_dir': str(model_dir),
                                              'execution_providers': ['cpu'],
                                              'temperature': 0.0,
                                              'max_image_edge': max_image_edge})
    cases = handwritten.load_set(name, missions_as=missions_as)
    decider = OnboardDecider.from_params(values)
    decider.load()
    try:
        run = handwritten.evaluate(cases, decider, values, demo_scene().image,
                                   vehicle=vehicle)
    finally:
        decider.close()
    return cases, run, values


def _handwritten(model_dir: Path, args: argparse.Namespace) -> int:
    """`--set handwritten|casual|quantities`: model, rules and the default chain side by side,
    per language (quantities: with the count of wrong quantities published)."""
    changes = {name: yaml.safe_load(value)
               for name, _, value in (item.partition('=') for item in args.param)}
    quantities = args.set == 'quantities'
    began = time.monotonic()
    cases, run, values = run_set(model_dir, args.set, args.missions_as, args.max_image_edge,
                                 changes, args.vehicle)
    tables = {source: handwritten.summarise(scores) for source, scores in run.scores.items()}
    multi = sum(case.mission for case in cases)
    print(f'{model_dir.name}: {len(cases)} commands of the {args.set} set ({multi} multi-step, '
          f'scored as '
          f'{args.missions_as}) in {time.monotonic() - began:.0f} s; arbitration='
          f'{values["arbitration"]} min_confidence={values["min_confidence"]} '
          f'min_confidence_unread={values["min_confidence_unread"]} '
          f'min_box_confidence={values["min_box_confidence"]}')
    print(handwritten.markdown(tables, quantities))
    timings = sorted(run.verify_ms)
    if timings:
        print(f'verification: median {timings[len(timings) // 2]:.2f} ms, p95 '
              f'{timings[int(len(timings) * 0.95)]:.2f} ms, max {timings[-1]:.2f} ms per '
              f'decision ({len(timings)} decisions)')
    fast = handwritten.fast_path_agreement(cases, run)
    print(f'rules_fast_path: {fast["complete"]} commands the rule parser reads completely; the '
          f'chain with verification published the same for {fast["same"]}'
          + ''.join(f'\n  differs: {line}' for line in fast['differ']))
    missed = handwritten.missed_goals(tables, quantities)
    print('goals met' if not missed else 'goals missed: ' + '; '.join(missed))
    if args.show_failures:
        print('\n'.join(handwritten.failures(cases, run.scores[args.show_failures])))
    if args.json:
        Path(args.json).write_text(json.dumps({'model_dir': str(model_dir), 'set': args.set,
                                               'tables': tables, 'rules_fast_path': fast,
                                               'verify_ms': timings, 'missed': missed},
                                              indent=2), encoding='utf-8')
    return 1 if args.check_goals and missed else 0


__all__ = ['Outcome', 'compare', 'heldout_examples', 'iou', 'markdown', 'meets_goals',
           'run_model', 'run_rules', 'run_set', 'summarise']
