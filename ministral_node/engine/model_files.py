"""A model directory in the published (transformers.js) layout, checked before anything loads.

    config.json  tokenizer.json  preprocessor_config.json  generation_config.json
    onnx/vision_encoder_<v>.onnx  onnx/embed_tokens_<v>.onnx  onnx/decoder_model_merged_<v>.onnx
    (+ external data files `<file>.onnx_data*` beside them)
    model_manifest.json (optional): each file's size and SHA-256, written at download

With a manifest, loading compares file sizes (cheap: a truncated copy is named before ONNX
Runtime sees it); `verify_manifest` also compares the SHA-256 of every file.

`ministral-optimize` may add `onnx/decoder_model_merged_<v>.opt.onnx` (+ `.opt.json`, the
fingerprint of the file it was made from): the same weights (it reads the original's external
data), with logits computed only where asked. `locate` picks it when its fingerprint still
matches the original.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
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
    decoder_edits: tuple[str, ...] = ()  # what `ministral-optimize` changed in that variant

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


# The edits `ministral-optimize` records for a variant.
LAST_LOGITS = 'last-position logits'
FUSED_ATTENTION = 'fused attention'


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


def optimized_variant(original: Path) -> tuple[Path, tuple[str, ...]] | None:
    """The optimized variant of `original` and its edits, if it exists and was made from
    this very file."""
    path, record = optimized_path(original), fingerprint_path(original)
    if not (path.is_file() and record.is_file()):
        return None
    try:
        made = json.loads(record.read_text(encoding='utf-8'))
        edits = tuple(made.get('edits') or [made.get('edit', LAST_LOGITS)])
        if made.get('source') != fingerprint(original):
            return None
    except (OSError, ValueError, AttributeError, TypeError):
        return None
    return path, edits


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
    check_manifest_sizes(root)
    docs = {name: read_json(root / name) for name in JSON_FILES if name != 'tokenizer.json'}
    better = optimized_variant(paths['decoder']) if optimized else None
    if better is not None:
        paths['decoder'] = better[0]
    return ModelFiles(root=root, tokenizer=root / 'tokenizer.json', config=docs['config.json'],
                      preprocessor=docs['preprocessor_config.json'],
                      generation=docs['generation_config.json'], decoder_variant=decoder,
                      decoder_optimized=better is not None,
                      decoder_edits=better[1] if better else (), **paths)


def read_json(path: Path) -> Any:
    """Parsed json, or `ModelError` naming the file and the position of the problem."""
    try:
        with open(path, encoding='utf-8') as handle:
            return json.load(handle)
    except json.JSONDecodeError as exc:
        raise ModelError(f'{path} is not valid JSON: {exc}') from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(f'cannot read {path}: {exc}') from exc


# Manifest -----------------------------------------------------------------------------------

MANIFEST = 'model_manifest.json'
MANIFEST_VERSION = 1
_CHUNK = 1 << 20
_NOT_LISTED = (MANIFEST, '.gitattributes')


@dataclass(frozen=True)
class FileProblem:
    """One file of a model directory that does not match its manifest."""

    path: str
    problem: str  # 'missing', 'size' or 'sha256'
    detail: str

    def __str__(self) -> str:
        return f'{self.path}: {self.detail}'


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def model_file_names(root: Path) -> list[str]:
    """Every file under `root` a manifest lists (not the manifest, partial downloads or
    dot files), as sorted POSIX paths relative to `root`."""
    names = []
    for path in root.rglob('*'):
        relative = path.relative_to(root)
        if path.is_file() and not path.name.endswith('.part') and \
                not any(part.startswith('.') for part in relative.parts) and \
                relative.as_posix() not in _NOT_LISTED:
            names.append(relative.as_posix())
    return sorted(names)


def write_manifest(root: str | Path, names: Iterable[str] | None = None, source: str = '',
                   progress: Callable[[str], None] = lambda message: None) -> Path:
    """Record the size and SHA-256 of `names` (default: every model file) in `root`."""
    root = Path(root)
    files = {}
    for name in sorted(names if names is not None else model_file_names(root)):
        progress(f'hashing {name}')
        path = root / name
        files[name] = {'size': path.stat().st_size, 'sha256': sha256_of(path)}
    doc = {'manifest_version': MANIFEST_VERSION, 'source': source,
           'created': datetime.datetime.now(datetime.UTC).strftime('%Y-%m-%dT%H:%M:%SZ'),
           'files': files}
    target = root / MANIFEST
    target.write_text(json.dumps(doc, indent=1) + '\n', encoding='utf-8')
    return target


def read_manifest(root: Path) -> dict[str, dict] | None:
    """The manifest's `files` (path -> {size, sha256}), None if the directory has none;
    ModelError if it is unreadable or lists a path outside the directory."""
    path = root / MANIFEST
    if not path.is_file():
        return None
    doc = read_json(path)
    files = doc.get('files') if isinstance(doc, dict) else None
    if not isinstance(files, dict) or not all(
            isinstance(entry, dict) and isinstance(entry.get('size'), int)
            and isinstance(entry.get('sha256'), str) for entry in files.values()):
        raise ModelError(f'{path} is not a model manifest (files: {{path: {{size, sha256}}}})')
    for name in files:
        pure = PurePosixPath(name)
        if pure.is_absolute() or '..' in pure.parts:
            raise ModelError(f'{path} lists {name!r}, outside the model directory')
    return files


def manifest_problems(root: Path, hashes: bool,
                      progress: Callable[[str], None] = lambda message: None
                      ) -> list[FileProblem] | None:
    """Files that do not match the manifest (sizes; SHA-256 too with `hashes`), or None if
    the directory has no manifest."""
    files = read_manifest(root)
    if files is None:
        return None
    problems = []
    for name, entry in sorted(files.items()):
        path = root / name
        if not path.is_file():
            problems.append(FileProblem(name, 'missing', 'missing'))
            continue
        size = path.stat().st_size
        if size != entry['size']:
            state = 'truncated' if size < entry['size'] else 'too long'
            problems.append(FileProblem(name, 'size', f'{size} bytes, the manifest says '
                                                      f'{entry["size"]} ({state})'))
        elif hashes:
            progress(f'checking {name} ({size / 2**20:.1f} MiB)')
            if sha256_of(path) != entry['sha256'].lower():
                problems.append(FileProblem(name, 'sha256', 'SHA-256 differs from the '
                                                            'manifest (corrupted)'))
    return problems


def check_manifest_sizes(root: Path) -> None:
    """ModelError naming every file whose size differs from the manifest (if there is one)."""
    problems = manifest_problems(root, hashes=False)
    if problems:
        raise ModelError(f'model directory {root} does not match its {MANIFEST}: '
                         + '; '.join(map(str, problems))
                         + f'. Copy these files again and check with scripts/fetch_model '
                           f'--verify {root}')
