"""`ministral-train`: train Mistral3ForConditionalGeneration on synthetic mission data.

    ministral-train OUT --preset demo --steps 2400           # from scratch (the demo model)
    ministral-train OUT --base ~/Ministral-3-3B --lora-rank 16 --steps 1000   # LoRA, merged

OUT becomes a checkpoint directory (`config.json`, `model.safetensors`, `tokenizer.json`,
`preprocessor_config.json`, `system_prompt.txt`, `training.json`) that `ministral-export`
turns into the engine's ONNX layout. `training.json` records the arguments and the SHA-256 of
the `--init` checkpoint's weights; with `--skip-done` a stage whose OUT already
records the same is not trained again, so a staged recipe (`make train`) interrupted after a
stage goes on from the next one. The language-model loss covers only the answer tokens;
prompts are built by the engine's own prompt and preprocessing code (see `encoding.py`).

Grounding: a small model trained from scratch does not find out by itself where an image token
lies in the image (Pixtral's RoPE is relative, so the vision tower cannot know; the decoder has
to work it out from the token layout). Training adds auxiliary losses on the image tokens'
hidden states after decoder layer `--aux-layer`: their grid position, the class of the object
under them and that object's box, through linear probes that are thrown away afterwards. The
exported model is the plain architecture; the probes only shape what it learns.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ministral_node.engine.preprocess import ImageConfig
from ministral_node.sources.system_prompt import (
    SYSTEM_PROMPT_FILE,
    model_system_prompt,
    system_prompt,
)
from ministral_node.training import casual, dataset, scenes, templates
from ministral_node.training.encoding import IGNORE, Encoded, Encoder
from ministral_node.training.model import PRESETS, mistral3_config, preprocessor_config

# The demo model's system prompt; it travels with the model (SYSTEM_PROMPT_FILE).
SHORT_SYSTEM_PROMPT = ('You are the onboard decision maker of a drone. Reply with one JSON '
                       'decision for the operator command and the camera image.')
PAD_ID = 11
TRAINING_FILE = 'training.json'  # the run's summary, written last
WEIGHTS_FILE = 'model.safetensors'  # save_pretrained's
NO_IMAGE_EVERY = 13  # every 13th ungrounded example comes without a camera image
LORA_TARGETS = r'.*language_model.*\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)'


def object_classes() -> dict[tuple[str, str], int]:
    """Class id of every referable (kind, colour) pair; 0 is the ground."""
    pairs = sorted((c.name, color) for c in scenes.CLASSES.values() if c.referable
                   for color in c.colors)
    return {pair: i + 1 for i, pair in enumerate(pairs)}


@dataclass
class Item:
    """An encoded example and the auxiliary targets of its image tokens (raster order)."""

    encoded: Encoded
    classes: np.ndarray  # int64 [tokens]
    boxes: np.ndarray  # float32 [tokens, 4], normalised; zeros on the ground
    positions: np.ndarray  # float32 [tokens, 2]: (x, y) of the token centre, normalised
    box_steps: np.ndarray  # int64 [k]: sequence positions that predict the answer's box tokens
    target_box: np.ndarray  # float32 [4]: the answer's box (zeros when it has none)


def token_targets(objects: list[scenes.SceneObject], rows: int, cols: int,
                  classes: dict[tuple[str, str], int]) -> tuple[np.ndarray, ...]:
    """Per image token: the class and box of the (smallest) object under its centre."""
    x = (np.arange(cols) + 0.5) / cols
    y = (np.arange(rows) + 0.5) / rows
    xs, ys = np.meshgrid(x, y)
    positions = np.stack([xs.ravel(), ys.ravel()], -1).astype(np.float32)
    labels = np.zeros(rows * cols, np.int64)
    boxes = np.zeros((rows * cols, 4), np.float32)
    area = np.full(rows * cols, np.inf)
    for obj in objects:
        x0, y0, x1, y1 = obj.box
        inside = (positions[:, 0] >= x0) & (positions[:, 0] <= x1) & \
            (positions[:, 1] >= y0) & (positions[:, 1] <= y1)
        size = (x1 - x0) * (y1 - y0)
        take = inside & (size < area)
        labels[take] = classes.get((obj.kind, obj.color), 0)
        boxes[take] = obj.box
        area[take] = size
    return labels, boxes, positions


def box_steps(encoded: Encoded, decode_bytes) -> np.ndarray:
    """Positions whose next-token prediction is one of the answer's box characters."""
    start = int(np.argmax(encoded.labels != IGNORE))
    offsets, text = [], b''
    for token in encoded.input_ids[start:]:
        offsets.append(len(text))
        text += decode_bytes([int(token)])
    key = text.find(b'"box":[')
    if key < 0:
        return np.zeros(0, np.int64)
    begin = key + len(b'"box":[')
    end = text.index(b']', begin)
    return np.asarray([start + i - 1 for i, offset in enumerate(offsets)
                       if begin <= offset < end], np.int64)


class Examples:
    """Map-style dataset: index -> encoded training example (rendered on the fly)."""

    def __init__(self, encoder: Encoder, split: dataset.Split) -> None:
        self.encoder = encoder
        self.split = split
        self.classes = object_classes()

    def __len__(self) -> int:
        return 1 << 30

    def __getitem__(self, index: int) -> Item:
        example = dataset.make_example(self.split, index)
        with_image = example.targeted or index % NO_IMAGE_EVERY != 0
        encoded = self.encoder.encode(example, with_image)
        rows = cols = 0
        if encoded.pixel_values is not None:
            block = self.encoder.image_config.block
            rows, cols = (s // block for s in encoded.pixel_values.shape[1:])
        box = np.asarray(example.box or (0, 0, 0, 0), np.float32)
        steps = box_steps(encoded, self.encoder.constraint.tokenizer.decode_bytes) \
            if box.any() else np.zeros(0, np.int64)
        return Item(encoded, *token_targets(example.objects, rows, cols, self.classes), steps,
                    box)


def collate(items: list[Item]) -> dict:
    """Right-padded ids, labels and mask; the images of the examples that have one, padded to
    the largest (Pixtral reads each image's own size from `image_sizes`); auxiliary targets of
    all image tokens in batch order."""
    import torch

    batch = [item.encoded for item in items]
    length = max(len(e.input_ids) for e in batch)
    ids = torch.full((len(batch), length), PAD_ID, dtype=torch.long)
    labels = torch.full((len(batch), length), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(batch), length), dtype=torch.long)
    for row, e in enumerate(batch):
        ids[row, :len(e.input_ids)] = torch.from_numpy(e.input_ids)
        labels[row, :len(e.labels)] = torch.from_numpy(e.labels)
        mask[row, :len(e.input_ids)] = 1
    out = {'input_ids': ids, 'labels': labels, 'attention_mask': mask}
    images = [e.pixel_values for e in batch if e.pixel_values is not None]
    if images:
        height = max(i.shape[1] for i in images)
        width = max(i.shape[2] for i in images)
        pixels = torch.zeros((len(images), 3, height, width))
        for k, image in enumerate(images):
            pixels[k, :, :image.shape[1], :image.shape[2]] = torch.from_numpy(image)
        out['pixel_values'] = pixels
        out['image_sizes'] = torch.tensor([i.shape[1:] for i in images], dtype=torch.long)
    for name in ('classes', 'boxes', 'positions'):
        out[f'aux_{name}'] = torch.from_numpy(np.concatenate([getattr(i, name) for i in items]))
    out['aux_answer_rows'] = torch.from_numpy(np.concatenate(
        [np.full(len(i.box_steps), row, np.int64) for row, i in enumerate(items)]))
    out['aux_answer_steps'] = torch.from_numpy(np.concatenate([i.box_steps for i in items]))
    out['aux_answer_boxes'] = torch.from_numpy(np.concatenate(
        [np.repeat(i.target_box[None], len(i.box_steps), 0) for i in items]).reshape(-1, 4))
    return out


class GroundingProbes:
    """Linear probes on hidden states: on image tokens, object class, object box and token
    position; on the answer's box tokens (last layer), the target's box."""

    def __init__(self, hidden: int, classes: int, device: str) -> None:
        import torch

        self.classes = torch.nn.Linear(hidden, classes + 1).to(device)
        self.geometry = torch.nn.Linear(hidden, 6).to(device)
        self.answer = torch.nn.Linear(hidden, 4).to(device)

    def parameters(self) -> list:
        return [*self.classes.parameters(), *self.geometry.parameters(),
                *self.answer.parameters()]

    def answer_loss(self, hidden, batch: dict):
        """The target box read from the states that write it: grounding made explicit."""
        import torch.nn.functional as F  # noqa: N812

        if batch['aux_answer_steps'].numel() == 0:
            return hidden.sum() * 0
        states = hidden[batch['aux_answer_rows'], batch['aux_answer_steps']]
        return 10 * F.mse_loss(self.answer(states), batch['aux_answer_boxes'])

    def loss(self, hidden, input_ids, batch: dict, image_token: int):
        import torch.nn.functional as F  # noqa: N812

        states = hidden[input_ids == image_token]
        if states.shape[0] == 0:
            return hidden.sum() * 0
        geometry = self.geometry(states)
        on_object = batch['aux_classes'] > 0
        box_loss = F.mse_loss(geometry[on_object, :4], batch['aux_boxes'][on_object]) \
            if on_object.any() else geometry.sum() * 0
        return (F.cross_entropy(self.classes(states), batch['aux_classes'])
                + 10 * F.mse_loss(geometry[:, 4:], batch['aux_positions']) + 10 * box_loss)


def _tokenizer_for_scratch(out: Path, vocab: int, system: str) -> None:
    from ministral_node.tools import tokenizer_builder

    texts = [*dataset.corpus(min(3000, 2 * vocab)), system,
             *(t.text for t in templates.all_templates() if not t.held_out)]
    tokenizer_builder.train(texts, vocab, individual_digits=True).save(str(out / 'tokenizer.json'))


def _lr(step: int, steps: int, peak: float, warmup: int) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def build_model(args: argparse.Namespace, out: Path):
    """(model, system prompt): a fresh model, a checkpoint to train further (`--init`, all
    weights), or a base checkpoint with LoRA."""
    import torch
    from transformers import Mistral3ForConditionalGeneration

    if args.base:
        base = Path(args.base)
        shutil.copyfile(base / 'tokenizer.json', out / 'tokenizer.json')
        dtype = torch.bfloat16 if torch.cuda.is_available() else torch.float32
        model = Mistral3ForConditionalGeneration.from_pretrained(base, dtype=dtype)
        from peft import LoraConfig, get_peft_model

        lora = LoraConfig(r=args.lora_rank, lora_alpha=2 * args.lora_rank, lora_dropout=0.0,
                          target_modules=LORA_TARGETS)
        model = get_peft_model(model, lora)
        system = model_system_prompt(base) if args.system_prompt == 'auto' else \
            _system(args.system_prompt)
        return model, system
    if args.init:
        init = Path(args.init)
        shutil.copyfile(init / 'tokenizer.json', out / 'tokenizer.json')
        model = Mistral3ForConditionalGeneration.from_pretrained(init, dtype=torch.float32)
        return model, model_system_prompt(init)
    preset = PRESETS[args.preset]
    system = SHORT_SYSTEM_PROMPT if args.system_prompt == 'auto' else _system(args.system_prompt)
    _tokenizer_for_scratch(out, preset.vocab, system)
    torch.manual_seed(args.seed)
    config = mistral3_config(preset, args.image_edge)
    return Mistral3ForConditionalGeneration(config), system


def _system(choice: str) -> str:
    if choice == 'engine':
        return system_prompt()
    if choice == 'short':
        return SHORT_SYSTEM_PROMPT
    return Path(choice).read_text(encoding='utf-8').strip()


def draw_weights(intent_weights: Sequence[str], casual_rates: Sequence[str]) -> None:
    """Apply `--intent-weight NAME=W` and `--casual-rate NAME=RATE` settings to the training
    draw (`dataset.INTENT_WEIGHTS`, `casual.RATES`); an unknown name stops, naming the known."""
    for items, table, flag, what in ((intent_weights, dataset.INTENT_WEIGHTS, '--intent-weight',
                                      'intent'),
                                     (casual_rates, casual.RATES, '--casual-rate', 'phenomenon')):
        for item in items:
            name, _, value = item.partition('=')
            if name not in table:
                raise SystemExit(f'ministral-train: unknown {what} {name!r} in {flag}; '
                                 f'known: {", ".join(table)}')
            table[name] = float(value)


def train(args: argparse.Namespace) -> dict:
    """Train and save a checkpoint in `args.out`; returns the training summary."""
    import torch
    from torch.utils.data import DataLoader

    if args.threads:
        torch.set_num_threads(args.threads)
    for path in args.extensions or ():
        templates.load_extensions(path)
    draw_weights(args.intent_weight or (), args.casual_rate or ())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    model, system = build_model(args, out)
    (out / SYSTEM_PROMPT_FILE).write_text(system + '\n', encoding='utf-8')
    preprocessor = preprocessor_config(args.image_edge)
    (out / 'preprocessor_config.json').write_text(json.dumps(preprocessor, indent=2) + '\n',
                                                  encoding='utf-8')
    encoder = Encoder(out / 'tokenizer.json', system,
                      ImageConfig.from_json(preprocessor, model.config.to_dict()))
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    model.to(device).train()
    loader = DataLoader(Examples(encoder, dataset.Split('train', args.seed)),
                        batch_size=args.batch, num_workers=args.workers, collate_fn=collate,
                        persistent_workers=args.workers > 0,
                        prefetch_factor=4 if args.workers else None)
    params = [p for p in model.parameters() if p.requires_grad]
    probes = None
    if args.aux_weight > 0:
        probes = GroundingProbes(model.config.text_config.hidden_size, len(object_classes()),
                                 device)
        params += probes.parameters()
    image_token = model.config.image_token_id
    optimizer = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01, betas=(0.9, 0.98))
    losses: list[float] = []
    aux_losses: list[float] = [0.0]
    train_began = time.monotonic()
    step = 0
    for batch in loader:
        if step >= args.steps or (args.max_minutes and
                                  time.monotonic() - train_began > args.max_minutes * 60):
            break
        for group in optimizer.param_groups:
            group['lr'] = _lr(step, args.steps, args.lr, args.warmup)
        batch = {k: v.to(device) for k, v in batch.items()}
        if 'pixel_values' in batch:
            batch['pixel_values'] = batch['pixel_values'].to(next(model.parameters()).dtype)
        inputs = {k: v for k, v in batch.items() if not k.startswith('aux_')}
        output = model(**inputs, use_cache=False, output_hidden_states=probes is not None)
        loss = output.loss
        if probes is not None:
            layer = min(args.aux_layer, len(output.hidden_states) - 1)
            aux = probes.loss(output.hidden_states[layer].float(), batch['input_ids'], batch,
                              image_token) \
                + probes.answer_loss(output.hidden_states[-1].float(), batch)
            aux_losses.append(aux.item())
            loss = loss + args.aux_weight * aux
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(output.loss.item())
        step += 1
        if step % args.log_every == 0 or step == args.steps:
            elapsed = time.monotonic() - train_began
            print(f'step {step}/{args.steps}  loss {np.mean(losses[-args.log_every:]):.4f}  '
                  f'aux {np.mean(aux_losses[-args.log_every:]):.4f}  '
                  f'{step * args.batch / elapsed:.1f} examples/s  {elapsed / 60:.1f} min',
                  flush=True)
    if args.base:
        model = model.merge_and_unload()
    model.save_pretrained(out)
    summary = {
        'preset': None if args.base or args.init else args.preset, 'base': args.base,
        'init': args.init, 'steps': step,
        'batch': args.batch, 'examples': step * args.batch, 'lr': args.lr, 'seed': args.seed,
        'aux_weight': args.aux_weight, 'aux_layer': args.aux_layer,
        'image_edge': args.image_edge, 'final_loss': float(np.mean(losses[-50:])),
        'train_minutes': round((time.monotonic() - train_began) / 60, 2),
        'total_minutes': round((time.monotonic() - began) / 60, 2),
        'threads': torch.get_num_threads(), 'device': device,
        'extensions': [str(p) for p in args.extensions or ()],
        'intent_weights': list(args.intent_weight or ()),
        'casual_rates': dict(casual.RATES),
        'arguments': arguments_record(args),
    }
    (out / TRAINING_FILE).write_text(json.dumps(summary, indent=2) + '\n', encoding='utf-8')
    return summary


# Arguments that change how a run goes, not what it trains.
_RUN_ONLY = frozenset({'out', 'workers', 'threads', 'log_every', 'skip_done'})


def arguments_record(args: argparse.Namespace) -> dict:
    """What a checkpoint was trained with: the arguments that shape the weights, and the
    SHA-256 of the weights it started from (`--init`: a retrained parent changes it)."""
    record = {k: v for k, v in sorted(vars(args).items()) if k not in _RUN_ONLY}
    parent = Path(args.init) / WEIGHTS_FILE if args.init else None
    record['init_weights_sha256'] = hashlib.sha256(parent.read_bytes()).hexdigest() \
        if parent is not None and parent.is_file() else None
    return record


def trained_already(args: argparse.Namespace) -> bool:
    """Whether `args.out` holds a finished checkpoint trained with these very arguments."""
    out = Path(args.out)
    try:
        summary = json.loads((out / TRAINING_FILE).read_text(encoding='utf-8'))
    except (OSError, ValueError):
        return False
    return (isinstance(summary, dict) and summary.get('arguments') == arguments_record(args)
            and (out / 'config.json').is_file() and (out / WEIGHTS_FILE).is_file())


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog='ministral-train', description=__doc__.split('\n')[0])
    p.add_argument('out', help='checkpoint directory to write')
    p.add_argument('--preset', choices=sorted(PRESETS), default='demo',
                   help='model size when training from scratch')
    p.add_argument('--base', help='base checkpoint directory (e.g. Ministral 3 3B): LoRA')
    p.add_argument('--init', help='checkpoint of ours to train further (all weights, its '
                                   'tokenizer and system prompt)')
    p.add_argument('--lora-rank', type=int, default=16)
    p.add_argument('--steps', type=int, default=2400)
    p.add_argument('--batch', type=int, default=16)
    p.add_argument('--lr', type=float, default=None,
                   help='peak learning rate (default 2e-3 from scratch, 2e-4 with LoRA)')
    p.add_argument('--warmup', type=int, default=100)
    p.add_argument('--seed', type=int, default=0, help='data and initialisation seed')
    p.add_argument('--image-edge', type=int, default=224,
                   help='longest image side the model sees (preprocessor longest_edge)')
    p.add_argument('--system-prompt', default='auto',
                   help="'short', 'engine' (the decider's built-in prompt) or a file; auto: "
                        'short from scratch, the base model\'s own with --base')
    p.add_argument('--extensions', action='append',
                   help='YAML file with more templates and scene classes (repeatable)')
    p.add_argument('--intent-weight', action='append', metavar='INTENT=WEIGHT',
                   help='how often an intent is drawn (dataset.INTENT_WEIGHTS), e.g. to focus '
                        'a tuning stage: mission=8 (repeatable)')
    p.add_argument('--casual-rate', action='append', metavar='PHENOMENON=RATE',
                   help='how often a casual-speech phenomenon is drawn (casual.RATES: filler, '
                        'particle, colloquial, infinitive, abbreviation, typo, run_on), e.g. '
                        'colloquial=0.25 (repeatable)')
    p.add_argument('--aux-weight', type=float, default=0.5,
                   help='weight of the grounding probes\' loss (0: language-model loss only)')
    p.add_argument('--aux-layer', type=int, default=2,
                   help='decoder layer whose image-token states the probes read')
    p.add_argument('--workers', type=int, default=1, help='data loader processes')
    p.add_argument('--threads', type=int, default=0, help='torch threads (0: default)')
    p.add_argument('--log-every', type=int, default=50)
    p.add_argument('--max-minutes', type=float, default=0,
                   help='stop early after this long (0: run all steps)')
    p.add_argument('--skip-done', action='store_true',
                   help='do nothing when OUT already holds a checkpoint trained with the same '
                        'arguments from the same --init checkpoint (a staged recipe resumes)')
    return p


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    args = parser().parse_args(argv)
    if args.lr is None:
        args.lr = 2e-4 if args.base else 2e-3
    if args.base and args.init:
        print('error: --base (LoRA) and --init (full training) exclude each other',
              file=sys.stderr)
        return 2
    for given in (args.base, args.init):
        if given and not (Path(given) / 'config.json').is_file():
            print(f'error: {given} is not a checkpoint directory (no config.json)',
                  file=sys.stderr)
            return 2
    if args.skip_done and trained_already(args):
        print(f'{args.out}: already trained with these arguments ({TRAINING_FILE}); skipped')
        return 0
    summary = train(args)
    print(json.dumps(summary))
    return 0


if __name__ == '__main__':
    sys.exit(main())
