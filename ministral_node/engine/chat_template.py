"""The Mistral chat prompt, as token ids, with the image-token grid.

    <s>[SYSTEM_PROMPT]system[/SYSTEM_PROMPT][INST]<image tokens>text[/INST]

The image grid is `rows` rows of `cols` `[IMG]` tokens, each row ended by `[IMG_BREAK]`, the
last one by `[IMG_END]`; only `[IMG]` positions receive image features. Everything up to and
including `[INST]` depends on the system prompt alone: that is the cacheable prefix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ministral_node.engine.tokenizer import MistralTokenizer, SpecialIds


@dataclass(frozen=True)
class Prompt:
    """Token ids of one request, where its constant prefix ends and where image features go."""

    ids: np.ndarray  # int64 [T]
    prefix_len: int
    image_positions: np.ndarray  # int64 indices of the [IMG] tokens

    def __len__(self) -> int:
        return int(self.ids.shape[0])


def image_grid(special: SpecialIds, rows: int, cols: int) -> list[int]:
    """Ids of an image of rows x cols tokens."""
    if rows < 1 or cols < 1:
        raise ValueError(f'an image grid needs at least one row and column, got {rows}x{cols}')
    grid: list[int] = []
    for _ in range(rows):
        grid += [special.img] * cols + [special.img_break]
    grid[-1] = special.img_end
    return grid


def prefix_ids(tokenizer: MistralTokenizer, system: str) -> list[int]:
    """`<s>[SYSTEM_PROMPT]system[/SYSTEM_PROMPT][INST]`: identical for every request."""
    s = tokenizer.special
    return [s.bos, s.system, *tokenizer.encode(system), s.system_end, s.inst]


def build_prompt(tokenizer: MistralTokenizer, system: str, text: str,
                 grid: tuple[int, int] | None = None) -> Prompt:
    """Prompt ids for a request; `grid` is (rows, cols) of the image, or None for text only."""
    prefix = prefix_ids(tokenizer, system)
    image = image_grid(tokenizer.special, *grid) if grid else []
    ids = np.asarray([*prefix, *image, *tokenizer.encode(text), tokenizer.special.inst_end],
                     dtype=np.int64)
    positions = np.flatnonzero(ids == tokenizer.special.img).astype(np.int64)
    return Prompt(ids, len(prefix), positions)
