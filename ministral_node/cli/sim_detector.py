"""`ministral-detector`: the simulated world's object detector, made, measured and timed.

    ministral-detector data .detector/train --worlds 250 --per-world 24 --first-seed 0
    ministral-detector train .detector/train .detector/run --steps 3000
    ministral-detector export .detector/run/detector.pt models/sim-detector
    ministral-detector eval models/sim-detector            # mAP@0.5 per class, held-out seeds
    ministral-detector bench models/sim-detector           # ms per frame, 320x240 and 640x480

`data` renders labelled frames with the simulator's own camera and renderer
(`sim/detector_frames.py`); `train` fits the compact detector of `training/detector_net.py`;
`export` writes it as an Ultralytics-layout ONNX that `perception/detector.py` loads like any
YOLOv8/11 export; `eval` renders worlds of other seeds and scores the ONNX through the node's
own loader (letterbox, NMS); `bench` times that loader on rendered frames. `make detector`
runs the first four.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from ministral_node.perception.detector import Detector, DetectorSettings
from ministral_node.resources import share_dir
from ministral_node.sim.detector_frames import FramePlan, render_set
from ministral_node.training.detector_data import META, FrameSet
from ministral_node.training.detector_eval import (
    EVAL_SCORE_THRESHOLD,
    evaluate,
    format_report,
)

MODEL_FILE = 'sim-detector.onnx'
CHECKPOINT_FILE = 'detector.pt'  # the training weights, kept beside the ONNX
TRAINING_FILE = 'training.json'
EVAL_FIRST_SEED = 100_000  # held-out worlds: training uses seeds below this
EVAL_WORLDS, EVAL_PER_WORLD = 40, 20  # 800 held-out frames
README = """# sim-detector

The simulated world's object detector (`ministral-detector`, issue 26): a compact
anchor-free CNN (strides 8/16/32, {parameters} parameters) trained on {frames} frames the
simulator renders (seeds {seeds}), exported in the Ultralytics ONNX layout
(`[1, 4 + classes, anchors]`, xywh in input pixels, sigmoid scores, metadata `names`), any input
size that is a multiple of 32 (trained at {size}, `imgsz` {imgsz}: the input the node gives it
by default). Made by these commands (`make detector` runs them):

    {commands}

Classes: {names}. Figures, and the input sizes to run
it at (`detector_input_sizes`), in docs/detector.md.
"""


def _log(text: str) -> None:
    print(text, flush=True)


def _model_path(path: Path) -> Path:
    """A model folder stands for the ONNX inside it; a relative path is tried in the package
    share directory too."""
    if not path.exists() and not path.is_absolute():
        try:
            shared = share_dir() / path
        except FileNotFoundError:
            shared = path
        path = shared if shared.exists() else path
    return path / MODEL_FILE if path.is_dir() else path


def _sizes(text: str) -> tuple[int, ...]:
    """'640' -> (640,); '640+320' -> (640, 320): input sizes run on each frame."""
    try:
        return tuple(int(v) for v in text.split('+'))
    except ValueError:
        raise argparse.ArgumentTypeError(f'{text!r}: a size or sizes joined by +, e.g. '
                                         '640+320') from None


def _detector(model: Path, sizes: tuple[int, ...], score: float, split_px: float) -> Detector:
    """The node's own loader on `model` (ONNX Runtime on the CPU, its default threads) at
    one input size or several (`merge_scales` with `split_px`)."""
    return Detector(DetectorSettings(
        model=str(_model_path(model)), input_size=sizes[0],
        input_sizes=sizes if len(sizes) > 1 else (), score_threshold=score,
        providers=('cpu',), scale_split_px=split_px))


def _plan(worlds: int, per_world: int, first_seed: int, width: int, height: int) -> FramePlan:
    return FramePlan(tuple(range(first_seed, first_seed + worlds)), per_world, width, height,
                     store_width=min(width, 320) if width > 320 else width,
                     store_height=min(height, 240) if width > 320 else height)


def _data(args: argparse.Namespace) -> int:
    began = time.monotonic()
    frames = render_set(_plan(args.worlds, args.per_world, args.first_seed, args.width,
                              args.height), args.out,
                        progress=lambda done, total: done % 25 == 0 and _log(
                            f'{done}/{total} worlds, {time.monotonic() - began:.0f} s'))
    _log(f'{len(frames)} frames in {args.out} ({time.monotonic() - began:.0f} s); objects '
         f'required per class: {frames.counts()}')
    return 0


def _train(args: argparse.Namespace) -> int:
    from ministral_node.training.detector_train import (
        TrainConfig,
        load_checkpoint,
        save_checkpoint,
        train,
    )

    frames = FrameSet.load(args.data)
    config = TrainConfig(steps=args.steps, batch=args.batch, lr=args.lr, seed=args.seed,
                         threads=args.threads, input_size=args.input_size[0],
                         more_input_sizes=args.input_size[1:],
                         max_minutes=args.max_minutes, warmup=args.warmup,
                         hard_negatives=not args.soft_negatives,
                         **{k: v for k in ('zoom_p', 'zoom_max')
                            if (v := getattr(args, k)) is not None})
    _log(f'training on {len(frames)} frames: {frames.counts()}')
    init = load_checkpoint(args.init / CHECKPOINT_FILE) if args.init else None
    net, summary = train(frames, config, _log, init)
    summary['data'] = {'folder': str(args.data), **{k: v for k, v in frames.meta.items()
                                                      if k != 'pitch_deg'}}
    if args.init:
        earlier = json.loads((args.init / TRAINING_FILE).read_text())
        summary['init'] = {'folder': str(args.init), 'steps': earlier.get('steps'),
                           'minutes': earlier.get('minutes'), 'init': earlier.get('init')}
    _log(f'checkpoint {save_checkpoint(net, summary, args.out)}')
    return 0


def _export(args: argparse.Namespace) -> int:
    from ministral_node.training.detector_net import export_onnx
    from ministral_node.training.detector_train import load_checkpoint

    net = load_checkpoint(args.checkpoint)
    summary = json.loads((args.checkpoint.parent / TRAINING_FILE).read_text())
    args.out.mkdir(parents=True, exist_ok=True)
    if args.checkpoint.parent.resolve() != args.out.resolve():
        # Beside the ONNX (whose convolutions have the batch norms folded in), the weights a
        # later stage goes on from: `train --init <model folder>`.
        shutil.copyfile(args.checkpoint, args.out / CHECKPOINT_FILE)
        shutil.copyfile(args.checkpoint.parent / TRAINING_FILE, args.out / TRAINING_FILE)
    names = summary['names']
    size = int(summary['config']['input_size'])
    imgsz = args.input_size or size
    trained = '+'.join(str(v) for v in (size, *summary['config'].get('more_input_sizes', ())))
    path = export_onnx(net, names, args.out / MODEL_FILE, imgsz,
                       {'training': json.dumps({k: summary[k] for k in ('frames', 'minutes')
                                                if k in summary})})
    data = summary.get('data', {})
    seeds = data.get('seeds', ['?', '?'])
    commands = '\n    '.join(args.commands or ['make detector'])
    (args.out / 'README.md').write_text(README.format(
        parameters=f'{sum(p.numel() for p in net.parameters()):,}', frames=summary['frames'],
        seeds=f'{seeds[0]}-{seeds[1]}', size=trained, imgsz=imgsz, commands=commands,
        names=', '.join(names)))
    _log(f'{path} ({path.stat().st_size / 1e6:.2f} MB)')
    return 0


def _eval_frames(plan: FramePlan, folder: Path | None) -> FrameSet:
    """The frames `eval` scores: rendered, or read from `folder` when it holds the same plan
    (rendered into it otherwise, for the next run)."""
    if folder and (folder / META).exists():
        frames = FrameSet.load(folder)
        made = (frames.meta.get('seeds'), frames.meta.get('per_world'),
                frames.meta.get('rendered'))
        wanted = ([min(plan.seeds), max(plan.seeds)], plan.per_world, [plan.width, plan.height])
        if made != wanted:
            raise SystemExit(f'{folder} holds worlds {made[0]}, {made[1]} frames each, '
                             f'rendered {made[2]}; eval asks for {wanted[0]}, {wanted[1]}, '
                             f'{wanted[2]}: another --frames folder, or delete it')
        return frames
    return render_set(plan, folder)


def _split_text(detector: Detector) -> str:
    split = detector.settings.scale_split_px
    return f' split {split:g} px' if len(detector.input_sizes) > 1 and split else ''


def held_out_report(model: Path, sizes: tuple[int, ...] = (0,), split_px: float = 0.0,
                    frames: Path | None = None, worlds: int = EVAL_WORLDS,
                    per_world: int = EVAL_PER_WORLD, first_seed: int = EVAL_FIRST_SEED,
                    width: int = 320, height: int = 240) -> tuple[dict, str]:
    """mAP@0.5 per class of the detector `model` (the node's loader at `sizes`, merged with
    `split_px`) on worlds the training never saw (`frames`: a folder caching the renders):
    the report (`detector_eval.evaluate`, with what was scored under `frames`) and its title."""
    detector = _detector(model, sizes, EVAL_SCORE_THRESHOLD, split_px)
    began = time.monotonic()
    rendered = _eval_frames(_plan(worlds, per_world, first_seed, width, height), frames)
    report = evaluate(detector, rendered)
    report['frames'] = {'count': len(rendered), 'seeds': [first_seed, first_seed + worlds - 1],
                        'rendered': [width, height],
                        'inputs': [list(size) for size in detector.input_sizes],
                        'scale_split_px': detector.settings.scale_split_px}
    title = (f'{detector.path.name}: mAP@0.5 on {len(rendered)} held-out frames (worlds '
             f'{first_seed}-{first_seed + worlds - 1}, rendered {width}x{height}, input '
             f'{detector.inputs}{_split_text(detector)}, {time.monotonic() - began:.0f} s)')
    return report, title


def _eval(args: argparse.Namespace) -> int:
    report, title = held_out_report(args.model, args.input_size, args.scale_split_px,
                                    args.frames, args.worlds, args.per_world, args.first_seed,
                                    args.width, args.height)
    _log(format_report(report, title))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1) + '\n')
    return 0


def _bench(args: argparse.Namespace) -> int:
    rows = []
    for width, height in ((320, 240), (640, 480)):
        frames = render_set(_plan(2, args.frames // 2, EVAL_FIRST_SEED, width, height))
        for size in args.sizes:
            detector = _detector(args.model, size, DetectorSettings().score_threshold,
                                 args.scale_split_px)
            for image in frames.images[:3]:
                detector.detect(np.asarray(image))  # warm-up
            times = []
            for image in frames.images:
                detector.detect(np.asarray(image))
                times.append(detector.last_ms)
            rows.append({'frame': f'{width}x{height}',
                         'input': '+'.join(str(v) for v in size),
                         'median_ms': round(statistics.median(times), 2),
                         'p90_ms': round(float(np.percentile(times, 90)), 2),
                         'frames': len(times)})
    _log(f'{_model_path(args.model).name}: detect() per frame (letterbox, ONNX Runtime on the '
         f'CPU with its default threads, NMS)')
    _log(f'{"frame":>9} {"input":>8} {"median ms":>10} {"p90 ms":>8} {"frames":>7}')
    for row in rows:
        _log(f'{row["frame"]:>9} {row["input"]:>8} {row["median_ms"]:>10.2f} '
             f'{row["p90_ms"]:>8.2f} {row["frames"]:>7}')
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=1) + '\n')
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='ministral-detector', description=__doc__.split(
        '\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest='command', required=True)

    def frames_args(sub: argparse.ArgumentParser, worlds: int, per_world: int,
                    first_seed: int) -> None:
        sub.add_argument('--worlds', type=int, default=worlds, help='seeded worlds')
        sub.add_argument('--per-world', type=int, default=per_world, help='frames per world')
        sub.add_argument('--first-seed', type=int, default=first_seed)
        sub.add_argument('--width', type=int, default=320, help='rendered frame width')
        sub.add_argument('--height', type=int, default=240)

    data = commands.add_parser('data', help='render labelled frames')
    data.add_argument('out', type=Path)
    frames_args(data, 250, 24, 0)
    data.set_defaults(run=_data)

    train = commands.add_parser('train', help='train on rendered frames')
    train.add_argument('data', type=Path)
    train.add_argument('out', type=Path, help='folder for detector.pt and training.json')
    train.add_argument('--steps', type=int, default=3000)
    train.add_argument('--batch', type=int, default=16)
    train.add_argument('--lr', type=float, default=0.002)
    train.add_argument('--seed', type=int, default=0)
    train.add_argument('--threads', type=int, default=2)
    train.add_argument('--input-size', type=_sizes, default=(320,),
                       help='the input trained at; several joined by + (320+640): each frame '
                            'at one of them, drawn at random')
    train.add_argument('--init', type=Path, help='a run folder or a model folder written by '
                       'export to go on from (a stage)')
    train.add_argument('--warmup', type=int, default=100)
    train.add_argument('--soft-negatives', action='store_true',
                       help="plain varifocal loss: other classes at an object's cells weigh "
                            'as little as the ground (the first stage of the shipped model)')
    train.add_argument('--zoom-p', type=float,
                       help='share of frames blown up around a part of the view, objects as '
                            'a larger input sees them (default 0.35)')
    train.add_argument('--zoom-max', type=float,
                       help='largest blow-up factor (default 2.2)')
    train.add_argument('--max-minutes', type=float, default=0.0,
                       help='end the schedule by then on a busy machine (0: steps only)')
    train.set_defaults(run=_train)

    export = commands.add_parser('export', help='write the Ultralytics-layout ONNX')
    export.add_argument('checkpoint', type=Path)
    export.add_argument('out', type=Path, help='model folder (sim-detector.onnx, README.md)')
    export.add_argument('--input-size', type=int, default=0,
                        help='the input size written as imgsz, the one the node uses by default '
                             '(0: the training size)')
    export.add_argument('--commands', action='append',
                        help='how it was made, for the README (repeatable)')
    export.set_defaults(run=_export)

    for name, run in (('eval', _eval), ('bench', _bench)):
        sub = commands.add_parser(name, help='mAP@0.5 per class on held-out renders'
                                  if name == 'eval' else 'time detection per frame')
        sub.add_argument('model', type=Path, nargs='?', default=Path('models/sim-detector'),
                         help='ONNX file or model folder (default models/sim-detector)')
        sub.add_argument('--json', type=Path)
        sub.set_defaults(run=run)
        if name == 'eval':
            frames_args(sub, EVAL_WORLDS, EVAL_PER_WORLD, EVAL_FIRST_SEED)
            sub.add_argument('--frames', type=Path,
                             help='folder caching the rendered frames (read when it holds '
                                  'them, written otherwise)')
            sub.add_argument('--input-size', type=_sizes, default=(0,),
                             help="model input size (0: the model's own imgsz), or sizes "
                                  'joined by + to run each frame at several (640+320)')
        else:
            sub.add_argument('--frames', type=int, default=60)
            sub.add_argument('--sizes', type=_sizes, nargs='+', default=[(320,), (640,)],
                             help='model input sizes to time, each a size or sizes joined '
                                  'by + (640+320: both on each frame, boxes merged)')
        sub.add_argument('--scale-split-px', type=float, default=0.0,
                         help='with several sizes: detector_scale_split_px (0: NMS only)')
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return args.run(args)


if __name__ == '__main__':
    sys.exit(main())
