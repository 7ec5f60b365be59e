"""Byte-level BPE `tokenizer.json` files with the Mistral special tokens at their real ids.

`train` learns a vocabulary from a corpus (the demo model's, from its training data);
`train_small` learns a small one from a built-in multilingual corpus (test models);
`construct_large` writes a vocabulary of any size (e.g. 131072, the real one) in a second,
with merges that are consistent by construction (benchmarks: masking cost, synthetic 3B).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import numpy as np
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

# Tekken's first control tokens, at the ids the real tokenizer gives them.
MISTRAL_SPECIALS = (
    '<unk>', '<s>', '</s>', '[INST]', '[/INST]', '[AVAILABLE_TOOLS]', '[/AVAILABLE_TOOLS]',
    '[TOOL_RESULTS]', '[/TOOL_RESULTS]', '[TOOL_CALLS]', '[IMG]', '<pad>', '[IMG_BREAK]',
    '[IMG_END]', '[PREFIX]', '[MIDDLE]', '[SUFFIX]', '[SYSTEM_PROMPT]', '[/SYSTEM_PROMPT]',
    '[TOOL_CONTENT]',
)

_PHRASES = (
    'take off to ten metres', 'land on the red pad', 'hold position for thirty seconds',
    'return to home now', 'fly forward twenty metres', 'go north for fifty metres',
    'climb by five metres', 'set speed to four metres per second', 'turn right ninety degrees',
    'orbit the blue car clockwise at radius fifteen', 'follow the person in the yellow jacket',
    'search for a white van around here', 'take three photos of the tower', 'stop',
    'what do you see', 'is the landing zone clear', 'décolle à dix mètres',
    'atterris sur la plateforme', 'vuela hacia adelante veinte metros', 'sigue al coche azul',
    'lande auf dem roten Feld', 'flieg zurück nach Hause', '前进二十米', '降落', 'ホバリングして',
    'حلق إلى الأمام', 'the operator asked', 'no target in view', 'camera shows a field',
)
_JSON_BITS = (
    '{"action":"takeoff","params":{"altitude_m":10.5},"target":null,"confidence":0.9,'
    '"rationale":"operator asked"}',
    '{"action":"follow","params":{"distance_m":null},"target":{"label":"blue car",'
    '"box":[0.12,0.3,0.45,0.8]},"confidence":0.75,"rationale":"car in view"}',
    '{"action":"goto","params":{"heading_deg":90,"distance_m":50},"target":null}',
    '{"action":"orbit","params":{"radius_m":15,"direction":"clockwise"}}',
    '"forward_m":20,"right_m":-3.25,"up_m":0', '"yaw_deg":-90', '"count":3', '"question":"',
    '"reason":"', '"text":"', 'true false null 0123456789 -1.5 0.01 360',
)


def _bpe_tokenizer(individual_digits: bool = False) -> Tokenizer:
    tokenizer = Tokenizer(models.BPE(unk_token=None, byte_fallback=False))
    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    # One token per digit, as Mistral's own tokenizer does: numbers are copied digit by digit.
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), byte_level]) \
        if individual_digits else byte_level
    tokenizer.decoder = decoders.ByteLevel()
    return tokenizer


def specials(count: int) -> list[str]:
    """The Mistral control tokens padded with `<SPECIAL_n>` up to `count` entries."""
    return [*MISTRAL_SPECIALS, *(f'<SPECIAL_{i}>' for i in range(len(MISTRAL_SPECIALS), count))]


def train(corpus: Iterable[str], vocab_size: int, special_count: int = 32,
          min_frequency: int = 1, individual_digits: bool = False) -> Tokenizer:
    """A byte-level BPE learnt from `corpus`: every byte has a token, control tokens at their
    real ids, then the merges that compress the corpus most (never across digits when
    `individual_digits`)."""
    tokenizer = _bpe_tokenizer(individual_digits)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=specials(special_count), show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), min_frequency=min_frequency)
    tokenizer.train_from_iterator(corpus, trainer)
    return tokenizer


def train_small(vocab_size: int = 1024, special_count: int = 32) -> Tokenizer:
    """A byte-level BPE trained in well under a second on a built-in corpus."""
    corpus = [*_PHRASES, *_JSON_BITS] * 20
    corpus += [f'{a} and then {b}' for a in _PHRASES for b in _PHRASES[::3]]
    return train(corpus, vocab_size, special_count)


def construct_large(vocab_size: int = 131072, special_count: int = 1000, seed: int = 0,
                    words: tuple[str, ...] = ()) -> Tokenizer:
    """A byte-level BPE of exactly `vocab_size` ids, built without training.

    Every token past the 256 byte tokens extends an earlier token by one byte, and the merges
    list the pairs in creation order, so the merge table is consistent. `words` (text) become
    whole tokens first, and so do the built-in corpus's words.
    """
    words = (*words, *_PHRASES, *_JSON_BITS)
    rng = np.random.default_rng(seed)
    # ByteLevel's printable mapping of bytes 0..255, in byte order.
    table = _bytes_to_unicode()
    alphabet = [table[b] for b in range(256)]
    vocab: dict[str, int] = {}
    names = specials(special_count)
    for i, name in enumerate(names):
        vocab[name] = i
    tokens = list(alphabet)
    for token in tokens:
        vocab[token] = len(vocab)
    merges: list[list[str]] = []

    def add(base: str, tail: str) -> None:
        vocab[base + tail] = len(vocab)
        tokens.append(base + tail)
        merges.append([base, tail])

    # Whole words first (each as a chain of one-byte extensions), so English-like text takes
    # about as many tokens as with a trained vocabulary.
    for word in sorted(set(' '.join(words).split()), key=len):
        mapped = ''.join(table[b] for b in (' ' + word).encode())
        for end in range(2, len(mapped) + 1):
            if mapped[:end] not in vocab and len(vocab) < vocab_size:
                add(mapped[:end - 1], mapped[end - 1])
    # Then random extensions: mostly ASCII letters, digits and punctuation, like real text.
    common = [table[b] for b in range(32, 127)]
    while len(vocab) < vocab_size:
        base = tokens[int(rng.integers(len(tokens)))] if len(tokens) > 256 and rng.random() < 0.7 \
            else alphabet[32 + int(rng.integers(95))]
        tail = common[int(rng.integers(len(common)))]
        new = base + tail
        if new in vocab or len(base) > 12:
            continue
        add(base, tail)
    document = {
        'version': '1.0', 'truncation': None, 'padding': None,
        'added_tokens': [{'id': i, 'content': name, 'single_word': False, 'lstrip': False,
                          'rstrip': False, 'normalized': False, 'special': True}
                         for i, name in enumerate(names)],
        'normalizer': None,
        'pre_tokenizer': {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': True,
                          'use_regex': True},
        'post_processor': None,
        'decoder': {'type': 'ByteLevel', 'add_prefix_space': True, 'trim_offsets': True,
                    'use_regex': True},
        'model': {'type': 'BPE', 'dropout': None, 'unk_token': None,
                  'continuing_subword_prefix': None, 'end_of_word_suffix': None,
                  'fuse_unk': False, 'byte_fallback': False, 'ignore_merges': False,
                  'vocab': vocab, 'merges': merges},
    }
    return Tokenizer.from_str(json.dumps(document))


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's byte -> printable character table (what the ByteLevel pre-tokenizer uses)."""
    printable = list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) \
        + list(range(ord('®'), ord('ÿ') + 1))
    chars = printable[:]
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return {b: chr(c) for b, c in zip(printable, chars)}
