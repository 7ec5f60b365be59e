"""The model's `tokenizer.json` through the `tokenizers` package, with its control-token ids."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tokenizers import Tokenizer

from ministral_node.engine.model_files import ModelError

SPECIAL_NAMES = {
    'bos': '<s>', 'eos': '</s>', 'inst': '[INST]', 'inst_end': '[/INST]', 'img': '[IMG]',
    'img_break': '[IMG_BREAK]', 'img_end': '[IMG_END]', 'system': '[SYSTEM_PROMPT]',
    'system_end': '[/SYSTEM_PROMPT]',
}
IMAGE_TOKENS = ('img', 'img_break', 'img_end')


@dataclass(frozen=True)
class SpecialIds:
    """Ids of the control tokens the prompt layout uses."""

    bos: int
    eos: int
    inst: int
    inst_end: int
    img: int
    img_break: int
    img_end: int
    system: int
    system_end: int


class MistralTokenizer:
    """Encodes text without adding any special token; control tokens are placed by id only."""

    def __init__(self, path: str | Path) -> None:
        path = Path(path)
        try:
            self._tokenizer = Tokenizer.from_file(str(path))
        except Exception as exc:
            raise ModelError(f'{path} is not a usable tokenizer.json: {exc}') from exc
        self.path = path
        ids = {}
        missing = []
        for key, name in SPECIAL_NAMES.items():
            token_id = self._tokenizer.token_to_id(name)
            if token_id is None:
                missing.append(name)
            ids[key] = token_id
        if missing:
            kind = 'image tokens' if any(SPECIAL_NAMES[k] in missing for k in IMAGE_TOKENS) \
                else 'control tokens'
            raise ModelError(f'{path} lacks the {kind} {", ".join(missing)}: '
                             'not a Ministral 3 / Pixtral tokenizer')
        self.special = SpecialIds(**ids)
        # Text that spells a control token ("[INST]") must not become one.
        self._tokenizer.encode_special_tokens = True

    @property
    def vocab_size(self) -> int:
        return self._tokenizer.get_vocab_size(with_added_tokens=True)

    def encode(self, text: str) -> list[int]:
        """Token ids of `text`, with no BOS and control-token spellings kept as plain text."""
        return self._tokenizer.encode(text, add_special_tokens=False).ids

    def decode(self, ids: list[int], skip_special: bool = True) -> str:
        return self._tokenizer.decode(list(ids), skip_special_tokens=skip_special)

    def to_json(self) -> str:
        """The tokenizer as `tokenizer.json` text (llguidance builds its token table from it)."""
        return self.path.read_text(encoding='utf-8')
