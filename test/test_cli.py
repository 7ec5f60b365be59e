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
from ministral_node.tools.fuzz import dds_without_pixel_format, image_bytes, jpeg_bytes, png_bytes
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
    code, out, _ = _decide(capsys, '--command', 'follow the red car', '--image', str(path))
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


def test_a_refused_command_prints_its_refusal_not_an_attempt(capsys):
    code, out, err = _decide(capsys, '--command', '   ')
    decision = json.loads(out)
    validate_decision(decision)
    assert code == 2 and 'command refused: empty' in err
    assert decision['attempts'] == [] and decision['refusal']['kind'] == 'input'


def _forged_png(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims width x height over almost no pixel data (a bomb's header)."""
    data = bytearray(png_bytes(np.zeros((4, 4, 3), np.uint8)))
    data[16:24] = width.to_bytes(4, 'big') + height.to_bytes(4, 'big')
    return bytes(data)


@pytest.mark.parametrize('name, data, message', [
    ('broken.jpg', b'\xff\xd8\xff\xe0 not a jpeg', 'JPEG ends before its frame header'),
    ('cut.jpg', jpeg_bytes(np.zeros((40, 40, 3), np.uint8))[:300], 'cannot be decoded'),
    ('frame.dds', dds_without_pixel_format(), 'the bytes look like a DDS texture'),
    ('frame.jpg', dds_without_pixel_format(), 'the bytes look like a DDS texture'),
    ('frame.gif', image_bytes(np.zeros((8, 8, 3), np.uint8), 'GIF'), 'look like a GIF'),
    ('bomb.png', _forged_png(7000, 7000), 'exceeds max_image_pixels=40000000'),
    ('empty.png', b'', 'has no data'),
])
def test_an_unreadable_image_exits_2_with_one_line(capsys, tmp_path, name, data, message):
    path = tmp_path / name
    path.write_bytes(data)
    code, out, err = _decide(capsys, '--command', 'land', '--image', str(path))
    assert code == 2 and out == ''
    assert err.count('\n') == 1 and err.startswith(f'ministral-decide: image {path} ')
    assert message in err


def test_a_directory_as_image_exits_2(capsys, tmp_path):
    code, _, err = _decide(capsys, '--command', 'land', '--image', str(tmp_path))
    assert code == 2 and 'cannot be read' in err and err.count('\n') == 1


def test_a_bad_params_file_stops_the_node_with_exit_2(tmp_path):
    bad = tmp_path / 'bad.yaml'
    bad.write_text('/**:\n  ros__parameters:\n    status_rate_hz: 0.1\n')
    result = subprocess.run([sys.executable, '-m', 'ministral_node.ros.main',
                             '--params-file', str(bad)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2
    assert 'status_rate_hz: 0.1 is below the minimum 2.0' in result.stderr


def test_execute_runs_the_mission_on_a_simulated_vehicle(capsys):
    code, out, err = _decide(capsys, '--command', 'take off to 10 m, then land',
                             '--decider', 'rules', '--execute')
    assert code == 0 and json.loads(out)['action'] == 'mission'
    lines = err.splitlines()
    assert 'steps[0] (takeoff) started' in lines[1] and 'steps[1] (land) started' in lines[2]
    assert 'completed' in lines[3] and 'all 2 steps done' in lines[3]


@pytest.mark.parametrize('state, action', [
    ('alt=0,in_air=false', 'reject'), ('in_air=false', 'reject'),
    ('alt=20,in_air=true,battery=80', 'rotate'), ('', 'rotate')])
def test_state_decides_as_the_node_would_on_that_vehicle(capsys, state, action):
    code, out, _ = _decide(capsys, '--command', 'turn left 90 degrees', '--decider', 'rules',
                           '--state', state)
    decision = json.loads(out)
    validate_decision(decision)
    assert code == 0 and decision['action'] == action
    if action == 'reject':
        assert 'take off first' in decision['params']['reason']
        assert decision['safety']['status'] == 'refused'


def test_a_command_that_takes_off_first_is_planned_from_the_ground(capsys):
    code, out, _ = _decide(capsys, '--command', 'take off to 10 m, then turn left 90 degrees',
                           '--decider', 'rules', '--state', 'alt=0,in_air=false,battery=90')
    decision = json.loads(out)
    assert code == 0 and decision['action'] == 'mission'
    assert [s['action'] for s in decision['params']['steps']] == ['takeoff', 'rotate']


@pytest.mark.parametrize('state, message', [
    ('alt=x', "alt='x' is not a number"), ('foo=1', "item 'foo=1'"),
    ('in_air=maybe', 'true or false')])
def test_a_bad_state_exits_2_with_the_reason(capsys, state, message):
    code, out, err = _decide(capsys, '--command', 'land', '--decider', 'rules', '--state', state)
    assert code == 2 and out == '' and message in err
