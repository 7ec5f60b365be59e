"""A model directory in the published (transformers.js) layout, checked before anything loads.

    config.json  tokenizer.json  preprocessor_config.json  generation_config.json
    onnx/vision_encoder_<v>.onnx  onnx/embed_tokens_<v>.onnx  onnx/decoder_model_merged_<v>.onnx
    (+ external data files `<file>.onnx_data*` beside them)

`ministral-optimize` may add `onnx/decoder_model_merged_<v>.opt.onnx` (+ `.opt.json`, the
fingerprint of the file it was made from): the same weights (it reads the original's external
data), with logits computed only where asked. `locate` picks it when its fingerprint still
matches the original.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DECODER_VARIANTS = ('q4', 'q4f16', 'fp16', 'fp32', 'int8', 'uint8', 'quantized')
VISION_VARIANTS = DECODER_VARIANTS
EMBED_VARIANTS = DECODER_VARIANTS
JSON_FILES = ('config.json', 'tokenizer.json', 'preprocessor_config.json',
              'generation_config.json')


class ModelError(RuntimeError):
    """The model directory or one of its files cannot be used; the message says which and why."""


def onnx_name(component: str, variant: str) -> str:
    """File name of a component in a variant: fp32 has no suffix, the others `_<variant>`."""
    return f'{component}.onnx' if variant == 'fp32' else f'{component}_{variant}.onnx'


@dataclass(frozen=True)
class ModelFiles:
    """Paths and parsed json of one model directory."""

    root: Path
    decoder: Path
    vision: Path
    embed: Path
    tokenizer: Path
    config: dict
    preprocessor: dict
    generation: dict
    decoder_variant: str
    decoder_optimized: bool = False  # `decoder` is the `.opt.onnx` variant of the original

    @property
    def name(self) -> str:
        return self.root.name

    @property
    def text_config(self) -> dict:
        return self.config.get('text_config', self.config)

    @property
    def eos_ids(self) -> tuple[int, ...]:
        """End-of-sequence ids from generation_config.json (an int or a list there)."""
        eos = self.generation.get('eos_token_id', self.config.get('eos_token_id', 2))
        return tuple(eos) if isinstance(eos, list) else (int(eos),)


def optimized_path(original: Path) -> Path:
    """Where `ministral-optimize` writes the optimized variant of a graph file."""
    return original.with_name(original.stem + '.opt.onnx')


def fingerprint_path(original: Path) -> Path:
    """The fingerprint of the original, written beside its optimized variant."""
    return original.with_name(original.stem + '.opt.json')


def fingerprint(original: Path) -> dict[str, Any]:
    """What identifies a graph file and its weights: the sha256 of the .onnx file and the sizes
    of its external data files."""
    data = sorted(p for p in original.parent.glob(original.name + '_data*') if p.is_file())
    return {'file': original.name,
            'sha256': hashlib.sha256(original.read_bytes()).hexdigest(),
            'data': {p.name: p.stat().st_size for p in data}}


def optimized_variant(original: Path) -> Path | None:
    """The optimized variant of `original` if it exists and was made from this very file."""
    path, record = optimized_path(original), fingerprint_path(original)
    if not (path.is_file() and record.is_file()):
        return None
    try:
        made_from = json.loads(record.read_text(encoding='utf-8')).get('source')
    except (OSError, ValueError, AttributeError):
        return None
    return path if made_from == fingerprint(original) else None


def locate(model_dir: str | Path, decoder: str = 'q4', vision: str = 'q4',
           embed: str = 'fp16', optimized: bool = True) -> ModelFiles:
    """Check `model_dir` holds every file for the chosen variants; `ModelError` names what not.
    With `optimized`, a valid `ministral-optimize` variant of the decoder replaces it."""
    root = Path(model_dir).expanduser()
    if not str(model_dir):
        raise ModelError('no model directory configured (model_dir is empty)')
    if not root.is_dir():
        raise ModelError(f'model directory {root} does not exist; fetch a model with '
                         'scripts/fetch_model or set model_dir')
    for value, allowed, what in ((decoder, DECODER_VARIANTS, 'decoder'),
                                 (vision, VISION_VARIANTS, 'vision'),
                                 (embed, EMBED_VARIANTS, 'embed')):
        if value not in allowed:
            raise ModelError(f'{what} variant {value!r} is not one of {", ".join(allowed)}')
    onnx_dir = root / 'onnx'
    paths = {
        'decoder': onnx_dir / onnx_name('decoder_model_merged', decoder),
        'vision': onnx_dir / onnx_name('vision_encoder', vision),
        'embed': onnx_dir / onnx_name('embed_tokens', embed),
    }
    wanted = [root / name for name in JSON_FILES] + list(paths.values())
    missing = [str(p.relative_to(root)) for p in wanted if not p.is_file()]
    if missing:
        present = sorted(str(p.relative_to(root)) for p in root.rglob('*') if p.is_file())
        hint = f'; present: {", ".join(present[:12])}' if present else '; the directory is empty'
        raise ModelError(f'model directory {root} is incomplete: missing {", ".join(missing)}'
                         f'{hint}. Fetch it with scripts/fetch_model.')
    docs = {name: read_json(root / name) for name in JSON_FILES if name != 'tokenizer.json'}
    better = optimized_variant(paths['decoder']) if optimized else None
    if better is not None:
        paths['decoder'] = better
    return ModelFiles(root=root, tokenizer=root / 'tokenizer.json', config=docs['config.json'],
                      preprocessor=docs['preprocessor_config.json'],
                      generation=docs['generation_config.json'], decoder_variant=decoder,
                      decoder_optimized=better is not None, **paths)


def read_json(path: Path) -> Any:
    """Parsed json, or `ModelError` naming the file and the position of the problem."""
    try:
        with open(path, encoding='utf-8') as handle:
            return json.load(handle)
    except json.JSONDecodeError as exc:
        raise ModelError(f'{path} is not valid JSON: {exc}') from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(f'cannot read {path}: {exc}') from exc
