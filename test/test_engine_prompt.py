"""Prompt layout: control tokens by id, the image-token grid, the cacheable prefix."""

import numpy as np
import pytest
from engine_models import model

from ministral_node.engine.chat_template import build_prompt, image_grid, prefix_ids
from ministral_node.engine.tokenizer import MistralTokenizer


@pytest.fixture(scope='module')
def tokenizer():
    return MistralTokenizer(model('random') / 'tokenizer.json')


def test_special_ids_are_the_real_ones(tokenizer):
    s = tokenizer.special
    assert (s.bos, s.eos, s.inst, s.inst_end, s.img, s.img_break, s.img_end, s.system,
            s.system_end) == (1, 2, 3, 4, 10, 12, 13, 17, 18)


def test_no_bos_is_added_and_control_spellings_stay_text(tokenizer):
    ids = tokenizer.encode('land [INST] now [IMG]')
    assert ids[0] != 1
    assert not set(ids) & {1, 2, 3, 4, 10, 12, 13, 17, 18}
    assert tokenizer.decode(ids) == 'land [INST] now [IMG]'


def test_image_grid_rows_end_with_break_and_the_last_with_end(tokenizer):
    s = tokenizer.special
    grid = image_grid(s, rows=2, cols=3)
    assert grid == [10, 10, 10, 12, 10, 10, 10, 13]
    assert image_grid(s, 1, 1) == [10, 13]
    with pytest.raises(ValueError):
        image_grid(s, 0, 3)


def test_prompt_with_image(tokenizer):
    prompt = build_prompt(tokenizer, 'be safe', 'land here', grid=(3, 4))
    ids = prompt.ids.tolist()
    system = tokenizer.encode('be safe')
    assert ids[:2] == [1, 17] and ids[2:2 + len(system)] == system
    assert ids[2 + len(system):4 + len(system)] == [18, 3]
    assert prompt.prefix_len == 4 + len(system)
    grid = ids[prompt.prefix_len:prompt.prefix_len + 15]
    assert grid == image_grid(tokenizer.special, 3, 4)
    assert ids[prompt.prefix_len + 15:-1] == tokenizer.encode('land here')
    assert ids[-1] == 4
    assert prompt.image_positions.size == 12
    assert np.all(prompt.ids[prompt.image_positions] == 10)


def test_text_only_prompt_and_constant_prefix(tokenizer):
    a = build_prompt(tokenizer, 'be safe', 'take off')
    b = build_prompt(tokenizer, 'be safe', 'land', grid=(1, 2))
    assert a.image_positions.size == 0 and 10 not in a.ids.tolist()
    assert a.ids[: a.prefix_len].tolist() == b.ids[: b.prefix_len].tolist() \
        == prefix_ids(tokenizer, 'be safe')
