"""Test models for the engine tests, built once per test session into a temporary directory."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from functools import cache
from pathlib import Path

from ministral_node.tools.build_test_model import BuildOptions, build

_ROOT = Path(tempfile.mkdtemp(prefix='ministral-test-models-'))
atexit.register(shutil.rmtree, _ROOT, True)


@cache
def model(name: str) -> Path:
    """A test model directory; `name` picks the build options below."""
    options = {
        # Confident (LM head = permuted embeddings), with unquantized copies.
        'deterministic': BuildOptions(deterministic=True, float_copy=True),
        # Random weights: a spread of logits, for sampling and the constraint.
        'random': BuildOptions(seed=7, float_copy=True),
        'random_keep': BuildOptions(seed=7, logits_to_keep=True),
        'deterministic_keep': BuildOptions(deterministic=True, logits_to_keep=True),
        # Six wider layers: a 3000-token prefill takes a second or two (cancellation).
        'slow': BuildOptions(preset='small', fp16_decoder=False),
    }[name]
    return build(_ROOT / name, options)


@cache
def optimized(name: str) -> Path:
    """A copy of test model `name` with the `ministral-optimize` variant of its q4 decoder
    (last-position logits and fused attention)."""
    from ministral_node.tools import optimize

    root = Path(shutil.copytree(model(name), _ROOT / f'{name}-optimized'))
    assert optimize.main([str(root), '--variant', 'q4']) == 0
    return root


def copy_model(name: str, dest: Path) -> Path:
    """A private copy of a test model that a test may break."""
    return Path(shutil.copytree(model(name), dest / name))
