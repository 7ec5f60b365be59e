"""Model directory checks: every broken layout gives ModelError with a clear message."""

import json
import shutil

import pytest
from engine_models import copy_model, model

from ministral_node.engine import EngineOptions, ModelError, VisionLanguageEngine
from ministral_node.engine.model_files import locate


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
