"""End to end: `ministral-sim` flies the suite's CI scenarios against the real node over DDS
(rules source) and scores them in the simulated world."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

pytest.importorskip('rclpy')
pytest.importorskip('pybullet')

from recording_support import read_back

from ministral_node.cli import sim

pytestmark = pytest.mark.slow


def test_the_ci_scenarios_fly_and_succeed_without_safety_violations(tmp_path, capsys):
    out = tmp_path / 'summary.json'
    code = sim.main(['--set', 'ci', '--sources', 'rules', '--json', str(out),
                     '--out', str(tmp_path / 'pictures'), '--video',
                     '--record', str(tmp_path / 'recordings'),
                     '--domain-id', str(160 + os.getpid() % 20)])
    printed = capsys.readouterr().out
    report = json.loads(out.read_text())
    results = {r['name']: r for r in report['results']}
    assert list(results) == ['takeoff_land_en', 'goto_north_de', 'link_loss_fr']
    assert code == 0 and report['safety_violations'] == 0
    assert report['succeeded'] == 3, [r['reason'] for r in report['results']]
    link_loss = results['link_loss_fr']
    assert [d['source'] for d in link_loss['decisions']][-2:] == ['failsafe', 'failsafe']
    assert [d['action'] for d in link_loss['decisions']][-2:] == ['hold', 'return_to_home']
    check = link_loss['checks'][0]
    assert check['measured']['action_at_s'] <= check['measured']['deadline_s']
    for result in report['results']:
        assert os.path.getsize(result['picture']) > 5000
        assert os.path.getsize(result['video']) > 5000
        assert result['sources'] == 'rules' and result['real_time_factor'] > 0
    assert 'category fault' in printed and 'real-time factor' in printed
    for result in report['results']:  # the node's flight recorder kept every decision
        runs = [p for p in Path(result['recording']).iterdir() if p.is_dir()]
        assert len(runs) == 1 and Path(result['recording']).parts[-2:] == ('rules',
                                                                          result['name'])
        recorded = [m for m in read_back(runs[0]) if m[0].endswith('/decision')]
        assert len(recorded) == len(result['decisions'])
    assert 'recordings:' in printed


def test_a_stop_during_a_leg_is_obeyed_where_the_vehicle_is(tmp_path):
    out = tmp_path / 'summary.json'
    code = sim.main(['--scenario', 'stop_while_deciding_en', '--scenario', 'stop_midleg_es',
                     '--sources', 'rules', '--json', str(out), '--out', str(tmp_path / 'pics'),
                     '--domain-id', str(180 + os.getpid() % 20)])
    report = json.loads(out.read_text())
    assert code == 0 and report['safety_violations'] == 0
    assert report['succeeded'] == 2, [r['reason'] for r in report['results']]
    for result in report['results']:
        stop = next(d for d in result['decisions'] if d['action'] == 'stop')
        assert stop['source'] == 'rules'
