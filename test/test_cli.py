"""`ministral-decide` and `ministral-node` from the command line: output and exit codes."""

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest
from engine_models import model

from ministral_node.cli import decide
from ministral_node.decision import validate_decision
from ministral_node.sources.onboard import resolve_model_dir
from ministral_node.training.evaluate import DEMO_MODEL


def _decide(capsys, *argv):
    code = decide.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_prints_one_valid_decision(capsys):
    code, out, err = _decide(capsys, '--command', 'Steig auf 30 Meter', '--decider', 'rules')
    decision = json.loads(out)
    validate_decision(decision)
    assert code == 0 and err == ''
    assert decision['action'] == 'change_altitude' and decision['source'] == 'rules'


def test_an_image_is_used(capsys, tmp_path):
    path = tmp_path / 'frame.png'
    cv2.imwrite(str(path), np.zeros((60, 80, 3), np.uint8))
    code, out, _ = _decide(capsys, '--command', 'take a photo', '--image', str(path))
    assert code == 0 and json.loads(out)['frame']['width'] == 80


def test_the_onboard_model_decides_with_model_dir(capsys):
    demo = resolve_model_dir(DEMO_MODEL)
    code, out, _ = _decide(capsys, '--command', 'land', '--model', str(demo))
    decision = json.loads(out)
    assert code == 0 and decision['source'] == 'onboard'
    assert decision['model']['provider'] == 'CPUExecutionProvider'
    assert decision['attempts'][0]['detail'].startswith('verified: ')


def test_a_model_proposal_that_fails_verification_hands_over(capsys):
    code, out, _ = _decide(capsys, '--command', 'land', '--model', str(model('random')))
    decision = json.loads(out)
    first = decision['attempts'][0]
    assert code == 0 and decision['source'] == 'failsafe'  # --model: onboard, then failsafe
    assert (first['source'], first['outcome']) == ('onboard', 'unverified')
    assert 'below min_confidence' in first['detail']  # a random model is unsure of everything


@pytest.mark.parametrize('argv, message', [
    (['--command', ''], 'command refused: empty'),
    (['--command', 'x' * 5000], 'exceeds max_command_chars'),
    (['--command', 'land', '--image', '/nonexistent.png'], 'does not exist'),
    (['--command', 'land', '--config', '/nonexistent.yaml'], 'cannot read parameters file'),
    (['--command', 'land', '--model', '/nonexistent'], 'model directory /nonexistent'),
])
def test_bad_input_exits_2_with_a_message(capsys, argv, message):
    code, _, err = _decide(capsys, *argv)
    assert code == 2 and message in err


def test_a_corrupt_image_exits_2(capsys, tmp_path):
    path = tmp_path / 'broken.jpg'
    path.write_bytes(b'\xff\xd8\xff\xe0 not a jpeg')
    code, _, err = _decide(capsys, '--command', 'land', '--image', str(path))
    assert code == 2 and 'cannot be read' in err


def test_a_bad_params_file_stops_the_node_with_exit_2(tmp_path):
    bad = tmp_path / 'bad.yaml'
    bad.write_text('/**:\n  ros__parameters:\n    status_rate_hz: 0.1\n')
    result = subprocess.run([sys.executable, '-m', 'ministral_node.ros.main',
                             '--params-file', str(bad)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2
    assert 'status_rate_hz: 0.1 is below the minimum 2.0' in result.stderr
