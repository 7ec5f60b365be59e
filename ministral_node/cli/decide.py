"""`ministral-decide`: one command (and optionally one image) in, one decision JSON out.

Runs the same pipeline as the node: input screening, fallback chain, safety envelope.
Exit codes: 0 decided; 2 bad input (unreadable image or config, refused command).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image as PILImage

from ministral_node import parameters
from ministral_node.camera import Frame, LatestFrame
from ministral_node.decision import to_json
from ministral_node.health import HealthBoard
from ministral_node.pipeline import DecisionPipeline, refusal
from ministral_node.resources import config_path
from ministral_node.sources.factory import build_sources, close_sources
from ministral_node.timing import MonotonicClock, WallClock


class InputError(Exception):
    """Bad command-line input: reported on stderr with exit code 2."""


def _read_image(path: str) -> np.ndarray:
    try:
        with PILImage.open(path) as picture:
            picture.load()
            return np.asarray(picture.convert('RGB'))
    except FileNotFoundError as exc:
        raise InputError(f'image {path} does not exist') from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise InputError(f'image {path} cannot be read: {exc}') from exc


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='ministral-decide',
        description='Decide one operator command with the node\'s pipeline and print the '
                    'decision as JSON.')
    parser.add_argument('--command', required=True, help='the operator command, any language')
    parser.add_argument('--image', help='camera image (JPEG/PNG) the decision may use')
    parser.add_argument('--config', default=str(config_path('ministral.yaml')),
                        help='ROS 2 parameters YAML (default: the package config)')
    parser.add_argument('--decider', choices=parameters.SOURCE_CHOICES,
                        help='use only this decision source (then the failsafe)')
    parser.add_argument('--model', metavar='DIR',
                        help='onboard model directory (published ONNX layout); implies '
                             '--decider onboard unless --decider is given')
    parser.add_argument('--pretty', action='store_true', help='indent the JSON')
    return parser


def decide(args: argparse.Namespace) -> dict:
    """The decision for parsed arguments; raises InputError on bad input."""
    try:
        values = parameters.load_params_file(args.config)
        if args.model:
            if not Path(args.model).is_dir():
                raise InputError(f'model directory {args.model} does not exist')
            values = parameters.with_changes(values, {'model_dir': args.model})
    except parameters.ParameterError as exc:
        raise InputError(str(exc)) from exc
    decider = args.decider or ('onboard' if args.model else None)
    clock = MonotonicClock()
    health = HealthBoard(clock)
    frames = LatestFrame(int(values['max_image_pixels']))
    image = _read_image(args.image) if args.image else None
    sources = build_sources(values, health, [decider] if decider else None)
    if image is not None:  # stamped once the model is loaded: loading may take longer than
        frames.store(Frame(image, WallClock().now(), Path(args.image).name,  # max_frame_age_s
                           clock.now()))
    try:
        pipeline = DecisionPipeline.from_params(values, sources, frames, clock, WallClock(),
                                                health)
        return pipeline.decide(args.command)
    finally:
        close_sources(sources)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        decision = decide(args)
    except InputError as exc:
        print(f'ministral-decide: {exc}', file=sys.stderr)
        return 2
    print(json.dumps(decision, indent=2, ensure_ascii=False) if args.pretty
          else to_json(decision))
    reason = refusal(decision)
    if reason is not None:
        print(f'ministral-decide: command refused: {reason}', file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
