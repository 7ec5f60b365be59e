"""`ministral-decide`: one command (and optionally one image) in, one decision JSON out.

Runs the same pipeline as the node: input screening, fallback chain, safety envelope.
With `--state alt=20,in_air=true,battery=80` it decides as the node would on a vehicle in
that state (the safety envelope sees it: a move on the ground is refused, a low battery
refuses a takeoff). With `--execute`, also runs the decision through the mission executor
against a simulated vehicle (on the ground at home, or where `--state` puts it) and prints
each step's progress on stderr.
Exit codes: 0 decided; 2 bad input (unreadable image or config, refused command).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from ministral_node import parameters
from ministral_node.core.pipeline import DecisionPipeline
from ministral_node.core.settings import Settings
from ministral_node.decision import Decision
from ministral_node.health import HealthBoard
from ministral_node.inputs.camera import Frame, LatestFrame
from ministral_node.inputs.image_conversion import (
    CompressedImageData,
    ImageError,
    decode_compressed,
)
from ministral_node.inputs.vehicle import STATE_HELP, VehicleState, parse_state
from ministral_node.mission.executor import ExecutorSettings, MissionExecutor
from ministral_node.mission.simple_vehicle import SimVehicle, simulate
from ministral_node.resources import config_path
from ministral_node.safety.envelope import SafetyEnvelope, SafetyLimits
from ministral_node.sources.factory import build_sources, close_sources
from ministral_node.timing import FakeClock, MonotonicClock, WallClock


class InputError(Exception):
    """Bad command-line input: reported on stderr with exit code 2."""


def _read_image(path: str, max_pixels: int) -> np.ndarray:
    """RGB pixels of a JPEG or PNG file, checked as the camera's are; InputError if unusable."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError as exc:
        raise InputError(f'image {path} does not exist') from exc
    except OSError as exc:
        raise InputError(f'image {path} cannot be read: {exc.strerror or exc}') from exc
    try:
        return decode_compressed(CompressedImageData(Path(path).suffix.lstrip('.'), data),
                                 max_pixels)
    except ImageError as exc:
        raise InputError(f'image {path} cannot be used: {exc}') from exc


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
    parser.add_argument('--state', default='', metavar='KEY=VALUE,...', help=STATE_HELP)
    parser.add_argument('--pretty', action='store_true', help='indent the JSON')
    parser.add_argument('--execute', action='store_true',
                        help='run the decision with the mission executor against a simulated '
                             'vehicle on the ground at home; progress goes to stderr')
    return parser


def execute(decision: Decision, values: dict, start: VehicleState | None = None) -> list[dict]:
    """Run `decision` with the mission executor on a simulated vehicle (at home on the
    ground, or at `start`), printing each status change on stderr; returns the changes."""
    clock = FakeClock(0.0)
    executor = MissionExecutor(ExecutorSettings.from_params(values),
                               SafetyEnvelope(SafetyLimits.from_params(values), clock))
    start = start or VehicleState()
    east, north, up = start.position_m or (0.0, 0.0, 0.0)
    heading = start.heading_deg if start.heading_deg is not None else 0.0
    vehicle = SimVehicle(east, north, up, heading,
                         bool(start.in_air) if start.in_air is not None else up > 0.5)

    def show(status: dict) -> None:
        step = f'steps[{status["step_index"]}] of {status["step_count"]}: ' \
               f'{status["step_action"]}' if status['step_count'] else ''
        print(f'[{status["stamp"]:6.1f} s] {status["state"]:<9} {step:<30} '
              f'{100 * status["progress"]:3.0f} %  {status["reason"] or status["note"]}',
              file=sys.stderr)

    changes = simulate(executor, decision, clock, vehicle, on_status=show)
    east, north, up = vehicle.position
    print(f'[{clock.now():6.1f} s] vehicle at east {east:.1f} m, north {north:.1f} m, up '
          f'{up:.1f} m, {"in the air" if vehicle.in_air else "on the ground"}, '
          f'{vehicle.photos} photo(s)', file=sys.stderr)
    return changes


def decide(args: argparse.Namespace) -> Decision:
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
    try:
        state = parse_state(args.state, clock.now())
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    health = HealthBoard(clock)
    frames = LatestFrame(int(values['max_image_pixels']))
    # Read before loading any model (a bad image exits at once), stored as received with the
    # command: loading a model must not make the image older than max_frame_age_s.
    pixels = _read_image(args.image, frames.max_pixels) if args.image else None
    settings = Settings.from_values(values)
    # As the node: a reflex is obeyed without the models (unless one source was asked for),
    # so none is loaded for it.
    reflex = None if decider else DecisionPipeline.from_settings(
        settings, [], frames, clock, WallClock(), health).read_reflex(args.command)
    sources = [] if reflex else build_sources(values, health, [decider] if decider else None)
    try:
        pipeline = DecisionPipeline.from_settings(settings, sources, frames, clock, WallClock(),
                                                  health, vehicle=lambda: state)
        if pixels is not None:
            frames.store(Frame(pixels, WallClock().now(), Path(args.image).name, clock.now()))
        return pipeline.decide(args.command, reflexes=not decider)
    finally:
        close_sources(sources)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        decision = decide(args)
    except InputError as exc:
        print(f'ministral-decide: {exc}', file=sys.stderr)
        return 2
    print(json.dumps(decision.to_dict(), indent=2, ensure_ascii=False) if args.pretty
          else decision.to_json())
    if decision.refusal is not None:
        print(f'ministral-decide: command refused: {decision.refusal.reason}', file=sys.stderr)
        return 2
    if args.execute:
        execute(decision, parameters.load_params_file(args.config),
                parse_state(args.state, 0.0))
    return 0


if __name__ == '__main__':
    sys.exit(main())
