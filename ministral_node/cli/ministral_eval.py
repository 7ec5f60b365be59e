"""`ministral-eval`: the language model on the held-out split or a hand-written set, beside the
rule parser (`training/evaluate.py`), or with `--set detector` the object detector as the
simulator suite runs it, against its goal.

    ministral-eval [MODEL_DIR] [--count 500] [--seed 1] [--json report.json]
    ministral-eval [MODEL_DIR] --set handwritten|casual|quantities [--show-failures SOURCE]
    ministral-eval --set detector [--detector PATH] [--frames DIR] [--check-goals]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ministral_node.cli.sim_detector import held_out_report
from ministral_node.inputs.vehicle import parse_state
from ministral_node.sim.scenario import suite_params
from ministral_node.training import evaluate
from ministral_node.training.detector_eval import AP_GOALS, format_report, missed_goals


def _detector_set(args: argparse.Namespace) -> int:
    """`--set detector`: the detector's AP@0.5 per class on held-out renders, at the inputs
    the simulator suite runs it with, against the goal for pads, cars, trucks and people."""
    params = suite_params()
    model = args.detector or Path(params.get('detector_model') or 'models/sim-detector')
    sizes = tuple(params.get('detector_input_sizes') or (params.get('detector_input_size', 0),))
    report, title = held_out_report(model, sizes, float(params.get('detector_scale_split_px', 0)),
                                    args.frames)
    print(format_report(report, title))
    missed = missed_goals(report)
    goal = f'AP@0.5 >= {min(AP_GOALS.values()):g} for {", ".join(AP_GOALS)}'
    print(f'goal {goal}: met' if not missed else f'goal {goal}: missed: ' + '; '.join(missed))
    if args.json:
        Path(args.json).write_text(json.dumps({**report, 'goals': AP_GOALS, 'missed': missed},
                                              indent=2), encoding='utf-8')
    return 1 if args.check_goals and missed else 0


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = evaluate.parser()
    args = parser.parse_args(argv)
    try:
        args.vehicle = parse_state(args.state, 0.0) if args.state else None
    except ValueError as exc:
        parser.error(str(exc))
    if args.set == evaluate.DETECTOR_SET:
        return _detector_set(args)
    return evaluate.run(args)


if __name__ == '__main__':
    sys.exit(main())
