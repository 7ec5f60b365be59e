"""Examples as the token ids and pixels the engine feeds at inference, plus the answer tokens.

The prompt comes from the engine's own code (`build_prompt`, `preprocess`) and the decider's
(`model_system_prompt`, `user_text`). The answer is tokenized the way constrained decoding
produces it: llguidance's forced tokens where the grammar forces them, the model's choice
(the tokenizer's own token if the grammar allows it) elsewhere, then `</s>` if still needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ministral_node.decision import CommandInfo
from ministral_node.decoding.constrained import JsonConstraint
from ministral_node.engine.chat_template import Prompt, build_prompt
from ministral_node.engine.preprocess import ImageConfig, PreparedImage, preprocess
from ministral_node.engine.tokenizer import MistralTokenizer
from ministral_node.inputs.camera import Frame
from ministral_node.sources.base import DecisionRequest
from ministral_node.sources.system_prompt import user_text
from ministral_node.training.dataset import Example, answer_text

IGNORE = -100  # label of positions without loss


@dataclass
class Encoded:
    """One example ready for the model: ids, labels (answer only) and pixels."""

    input_ids: np.ndarray  # int64 [T]
    labels: np.ndarray  # int64 [T], IGNORE outside the answer
    pixel_values: np.ndarray | None  # float32 [3, H, W]


def request_for(example: Example, with_image: bool = True) -> DecisionRequest:
    """The decision request the node would make for this example."""
    frame = Frame(example.image, 0.0, 'camera') if with_image else None
    return DecisionRequest(CommandInfo('train', example.command, 0.0), frame)


class Encoder:
    """Turns examples into model inputs with one tokenizer, system prompt and image size."""

    def __init__(self, tokenizer_path: str | Path, system: str, image_config: ImageConfig,
                 max_image_edge: int | None = None) -> None:
        self.tokenizer = MistralTokenizer(tokenizer_path)
        self.system = system
        self.image_config = image_config
        self.max_image_edge = max_image_edge
        self.constraint = JsonConstraint(self.tokenizer.to_json(), self.tokenizer.special.eos,
                                         self.tokenizer.vocab_size)

    def prompt_text(self, example: Example, with_image: bool = True) -> str:
        """The user text the decider sends for this example."""
        return user_text(request_for(example, with_image))

    def prompt(self, example: Example, with_image: bool = True
               ) -> tuple[Prompt, PreparedImage | None]:
        """The engine's prompt (and prepared image) for this example."""
        prepared = preprocess(example.image, self.image_config, self.max_image_edge) \
            if with_image else None
        grid = (prepared.rows, prepared.cols) if prepared is not None else None
        text = self.prompt_text(example, with_image)
        return build_prompt(self.tokenizer, self.system, text, grid), prepared

    def answer_ids(self, text: str) -> list[int]:
        """Token ids of `text` as constrained decoding emits them, ending with `</s>` unless the
        grammar stops by itself. Raises ValueError if the grammar rejects the text."""
        processor = self.constraint.processor(self.constraint.worst_case_tokens + 64)
        data = text.encode('utf-8')
        done = 0
        ids: list[int] = []
        decode = self.constraint.tokenizer.decode_bytes
        while done < len(data):
            allowed = processor.allowed()
            preferred = self.tokenizer.encode(data[done:].decode('utf-8', errors='ignore'))
            token = preferred[0] if preferred and allowed[preferred[0]] and \
                data.startswith(decode([preferred[0]]), done) else None
            if token is None:
                token = self._longest_allowed(allowed, data, done)
            processor.advance(token)
            ids.append(token)
            done += len(decode([token]))
            forced = processor.forced(len(data))
            ids += forced
            done += len(decode(forced)) if forced else 0
            if processor.finished():
                break
        if done != len(data) or not processor.accepting():
            raise ValueError(f'the generation constraint does not accept {text!r}')
        if not processor.finished():
            ids.append(self.tokenizer.special.eos)
        return ids

    def _longest_allowed(self, allowed: np.ndarray, data: bytes, done: int) -> int:
        decode = self.constraint.tokenizer.decode_bytes
        best, best_len = None, 0
        for token in np.flatnonzero(allowed):
            piece = decode([int(token)])
            if len(piece) > best_len and data.startswith(piece, done):
                best, best_len = int(token), len(piece)
        if best is None:
            raise ValueError(f'no allowed token continues {data[done:done + 20]!r}')
        return best

    def encode(self, example: Example, with_image: bool = True) -> Encoded:
        """Prompt + answer ids with answer-only labels, and the pixels."""
        prompt, prepared = self.prompt(example, with_image)
        answer = self.answer_ids(answer_text(example.proposal))
        ids = np.concatenate([prompt.ids, np.asarray(answer, np.int64)])
        labels = np.full(ids.shape, IGNORE, np.int64)
        labels[len(prompt):] = answer
        pixels = prepared.pixel_values[0] if prepared is not None else None
        return Encoded(ids, labels, pixels)
