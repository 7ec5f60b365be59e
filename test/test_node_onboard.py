"""The node deciding with a 4-bit ONNX model end to end over real DDS."""

import numpy as np
import pytest
from engine_models import model
from ros_harness import Harness

from ministral_node.decision import validate_decision
from ministral_node.health import ERROR
from ministral_node.inputs.image_conversion import encode_raw
from ministral_node.ros.node import MinistralNode
from ministral_node.sources.rules.verify import Verifier


def test_a_4bit_onnx_model_decides_over_dds_with_the_camera_frame():
    h = Harness(MinistralNode, {'decision_sources': ['onboard', 'rules'], 'rules_fast_path': False,
                                'model_dir': str(model('random')), 'temperature': 0.8,
                                'seed': 5, 'max_image_edge': 112})
    try:
        h.wait_for(lambda: h.node.loop.health.snapshot_of('onboard').message.startswith('loaded'),
                   what='the model loaded on activate')
        verifier = h.node.loop.pipeline.chain.verify  # the node checks what its models say
        assert isinstance(verifier, Verifier) and verifier.settings.arbitration == 'verify'
        # random weights: verification would hand every answer over to the rules, and this
        # test is about the model's own path through the node
        h.node.loop.pipeline.chain.verify = None
        h.image(encode_raw(np.random.default_rng(1).integers(0, 256, (90, 160, 3),
                                                             dtype=np.uint8), 'bgr8'))
        h.wait_for(lambda: h.node.loop.frames.newest() is not None, what='a frame')
        for text in ('land on the red pad', 'suis la voiture bleue', 'steig auf 30 Meter'):
            decision = h.command(text, timeout=60)
            validate_decision(decision)
            assert decision['source'] == 'onboard'
            assert decision['attempts'][0] == {**decision['attempts'][0], 'source': 'onboard',
                                               'outcome': 'ok'}
            assert decision['model']['variant'] == 'q4'
            assert decision['model']['provider'] == 'CPUExecutionProvider'
            assert decision['frame']['width'] == 160
        assert h.node.loop.sources[0].last_result.image_tokens > 0  # the frame reached the model
        h.node.trigger_deactivate()
        assert h.node.loop.sources == []  # the model is freed on deactivate
    finally:
        h.close()


def test_a_missing_model_is_a_reported_degraded_mode_not_a_crash(tmp_path):
    h = Harness(MinistralNode, {'decision_sources': ['onboard', 'rules'], 'rules_fast_path': False,
                                'model_dir': str(tmp_path / 'nowhere')})
    try:
        onboard = h.node.loop.health.snapshot_of('onboard')
        assert onboard.level == ERROR and 'nowhere' in onboard.message
        decision = h.command('take off to 10 m')  # not a reflex: the chain decides it
        assert decision['source'] == 'rules' and decision['action'] == 'takeoff'
        assert decision['attempts'][0]['outcome'] == 'unavailable'
        assert 'nowhere' in decision['attempts'][0]['detail']
        h.wait_for(lambda: h.statuses and h.statuses[-1]['state'] == 'active'
                   and h.statuses[-1]['health']['onboard'] == 'ERROR', what='status')
    finally:
        h.close()


@pytest.mark.parametrize('broken', ['not_onnx', 'no_tokenizer'])
def test_a_broken_model_directory_is_reported_with_the_reason(tmp_path, broken):
    import shutil

    bad = tmp_path / 'bad'
    shutil.copytree(model('random'), bad)
    if broken == 'not_onnx':
        (bad / 'onnx' / 'decoder_model_merged_q4.onnx').write_bytes(b'this is not a protobuf')
        reason = 'decoder_model_merged_q4.onnx'
    else:
        (bad / 'tokenizer.json').unlink()
        reason = 'tokenizer.json'
    h = Harness(MinistralNode, {'decision_sources': ['onboard', 'rules'],
                                'model_dir': str(bad)})
    try:
        assert reason in h.node.loop.health.snapshot_of('onboard').message
        assert h.command('climb to 30 m')['source'] == 'rules'
    finally:
        h.close()
