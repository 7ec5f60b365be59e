"""Model directory checks: every broken layout gives ModelError with a clear message."""

import json
import shutil

import pytest
from engine_models import copy_model, model

from ministral_node.engine import EngineOptions, ModelError, VisionLanguageEngine
from ministral_node.engine.model_files import (
    MANIFEST,
    locate,
    manifest_problems,
    model_file_names,
    read_manifest,
    write_manifest,
)
from ministral_node.resources import models_dir


def test_a_complete_directory_loads_and_reports_itself():
    engine = VisionLanguageEngine.load(model('deterministic'))
    info = engine.identity()
    assert (info.name, info.variant, info.provider) == ('deterministic', 'q4',
                                                        'CPUExecutionProvider')
    layout = engine.sessions.decoder_layout
    assert (layout.num_layers, layout.kv_heads, layout.head_dim) == (2, 2, 16)


def test_missing_directory(tmp_path):
    with pytest.raises(ModelError, match='does not exist; fetch a model'):
        locate(tmp_path / 'nope')


def test_empty_model_dir_setting():
    with pytest.raises(ModelError, match='no model directory configured'):
        locate('')


def test_empty_directory_names_every_missing_file(tmp_path):
    with pytest.raises(ModelError) as info:
        locate(tmp_path)
    message = str(info.value)
    for name in ('config.json', 'tokenizer.json', 'preprocessor_config.json',
                 'onnx/decoder_model_merged_q4.onnx', 'onnx/embed_tokens_fp16.onnx',
                 'onnx/vision_encoder_q4.onnx', 'directory is empty'):
        assert name in message


def test_partial_directory_names_only_what_is_missing(tmp_path):
    root = copy_model('random', tmp_path)
    (root / 'onnx' / 'vision_encoder_q4.onnx').unlink()
    (root / 'generation_config.json').unlink()
    with pytest.raises(ModelError) as info:
        locate(root)
    message = str(info.value)
    assert 'missing generation_config.json, onnx/vision_encoder_q4.onnx' in message
    assert 'decoder_model_merged_q4.onnx,' not in message.split('present:')[0]


def test_unknown_variant(tmp_path):
    with pytest.raises(ModelError, match="decoder variant 'q3' is not one of"):
        locate(model('random'), decoder='q3')


def test_a_file_that_is_not_onnx(tmp_path):
    root = copy_model('random', tmp_path)
    (root / 'onnx' / 'decoder_model_merged_q4.onnx').write_bytes(b'<html>404 Not Found</html>')
    with pytest.raises(ModelError, match='decoder_model_merged_q4.onnx is not an ONNX model'):
        VisionLanguageEngine.load(root)


def test_a_graph_with_the_wrong_layout(tmp_path):
    root = copy_model('random', tmp_path)
    shutil.copy(root / 'onnx' / 'embed_tokens_fp16.onnx',
                root / 'onnx' / 'decoder_model_merged_q4.onnx')
    with pytest.raises(ModelError, match="does not have the decoder_model_merged layout: no "
                                         "input 'inputs_embeds'"):
        VisionLanguageEngine.load(root)


def test_vision_and_embed_layouts_are_checked(tmp_path):
    root = copy_model('random', tmp_path)
    shutil.copy(root / 'onnx' / 'embed_tokens_fp16.onnx', root / 'onnx' / 'vision_encoder_q4.onnx')
    with pytest.raises(ModelError, match="vision_encoder layout: no input 'pixel_values'"):
        VisionLanguageEngine.load(root)
    shutil.copy(model('random') / 'onnx' / 'vision_encoder_q4.onnx',
                root / 'onnx' / 'embed_tokens_fp16.onnx')
    with pytest.raises(ModelError, match='does not have the embed_tokens layout'):
        VisionLanguageEngine.load(root)


def test_a_tokenizer_without_the_image_tokens(tmp_path):
    root = copy_model('random', tmp_path)
    path = root / 'tokenizer.json'
    doc = json.loads(path.read_text())
    doc['added_tokens'] = [t for t in doc['added_tokens'] if t['content'] != '[IMG_BREAK]']
    doc['model']['vocab'].pop('[IMG_BREAK]')
    path.write_text(json.dumps(doc))
    with pytest.raises(ModelError, match=r'lacks the image tokens \[IMG_BREAK\]'):
        VisionLanguageEngine.load(root)


def test_a_tokenizer_that_is_not_json(tmp_path):
    root = copy_model('random', tmp_path)
    (root / 'tokenizer.json').write_text('version: 1')
    with pytest.raises(ModelError, match='not a usable tokenizer.json'):
        VisionLanguageEngine.load(root)


@pytest.mark.parametrize('name', ['config.json', 'preprocessor_config.json',
                                  'generation_config.json'])
def test_corrupt_json(tmp_path, name):
    root = copy_model('random', tmp_path)
    (root / name).write_text('{"model_type": "mistral3",')
    with pytest.raises(ModelError, match=f'{name} is not valid JSON: .*line 1'):
        locate(root)


def test_image_token_mismatch_between_config_and_tokenizer(tmp_path):
    root = copy_model('random', tmp_path)
    config = json.loads((root / 'config.json').read_text())
    config['image_token_index'] = 12
    (root / 'config.json').write_text(json.dumps(config))
    with pytest.raises(ModelError, match='image_token_index 12 is not the tokenizer'):
        VisionLanguageEngine.load(root)


def test_providers_are_filtered_and_cpu_is_the_fallback():
    from ministral_node.engine.sessions import resolve_providers

    assert resolve_providers(['tensorrt', 'cuda', 'cpu'])[-1] == 'CPUExecutionProvider'
    assert resolve_providers(['no-such-provider']) == ['CPUExecutionProvider']
    engine = VisionLanguageEngine.load(model('random'), EngineOptions(providers=('cuda',)))
    assert engine.identity().provider in ('CUDAExecutionProvider', 'CPUExecutionProvider')


# The manifest: sizes checked at load (cheap), hashes by scripts/fetch_model --verify.

def _with_manifest(tmp_path):
    root = copy_model('random', tmp_path)
    write_manifest(root)
    return root


def test_a_truncated_file_is_named_at_load_before_onnx_runtime_sees_it(tmp_path):
    root = _with_manifest(tmp_path)
    decoder = root / 'onnx' / 'decoder_model_merged_q4.onnx'
    size = decoder.stat().st_size
    decoder.write_bytes(decoder.read_bytes()[:size // 2])
    with pytest.raises(ModelError) as info:
        VisionLanguageEngine.load(root)
    message = str(info.value)
    assert f'onnx/decoder_model_merged_q4.onnx: {size // 2} bytes, the manifest says {size} ' \
           '(truncated)' in message
    assert f'scripts/fetch_model --verify {root}' in message


def test_a_file_listed_in_the_manifest_but_missing_is_named(tmp_path):
    root = _with_manifest(tmp_path)
    (root / 'onnx' / 'decoder_model_merged.onnx').unlink()  # a float copy, not needed to load
    with pytest.raises(ModelError, match='onnx/decoder_model_merged.onnx: missing'):
        locate(root)


def test_a_same_size_corruption_passes_the_load_check_but_not_verify(tmp_path):
    root = _with_manifest(tmp_path)
    path = root / 'tokenizer.json'
    data = path.read_bytes()
    path.write_bytes(data[:100] + bytes([data[100] ^ 1]) + data[101:])  # one bit, same size
    assert manifest_problems(root, hashes=False) == []
    assert [(p.path, p.problem) for p in manifest_problems(root, hashes=True)] == \
        [('tokenizer.json', 'sha256')]


@pytest.mark.parametrize('text, message', [
    ('{"files": ', 'model_manifest.json is not valid JSON'),
    ('{"files": {"config.json": {"size": "12"}}}', 'is not a model manifest'),
    ('{"files": {"../../etc/passwd": {"size": 1, "sha256": "00"}}}', 'outside the model'),
])
def test_a_broken_manifest_is_a_model_error(tmp_path, text, message):
    root = copy_model('random', tmp_path)
    (root / MANIFEST).write_text(text)
    with pytest.raises(ModelError, match=message):
        locate(root)


def test_the_shipped_demo_model_matches_its_manifest():
    root = models_dir() / 'ministral-3-drone-demo'
    assert (root / MANIFEST).is_file()
    assert manifest_problems(root, hashes=True) == []
    assert sorted(read_manifest(root)) == model_file_names(root)
