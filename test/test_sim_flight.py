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


def test_the_node_flies_through_px4_and_mavros_and_the_autopilot_wins(tmp_path, capsys):
    # a CI scenario, a takeover and a denial, each through a simulated PX4 over uXRCE-DDS and
    # behind MAVROS (the json interface skips the two autopilot scenarios, saying so)
    pytest.importorskip('px4_msgs')
    pytest.importorskip('mavros_msgs')
    out = tmp_path / 'summary.json'
    code = sim.main(['--scenario', 'takeoff_land_en', '--scenario', 'rc_takeover_en',
                     '--scenario', 'offboard_rejected_fr', '--vehicle', 'px4,mavros',
                     '--sources', 'rules', '--json', str(out), '--out', str(tmp_path / 'pics'),
                     '--domain-id', str(200 + os.getpid() % 20)])
    printed = capsys.readouterr().out
    report = json.loads(out.read_text())
    assert code == 0 and report['safety_violations'] == 0
    assert report['succeeded'] == 6, [(r['interface'], r['name'], r['reason'])
                                      for r in report['results']]
    assert report['by_interface'] == {
        interface: {'scenarios': 3, 'succeeded': 3, 'safety_violations': 0}
        for interface in ('px4', 'mavros')}
    header = next(line for line in printed.splitlines() if 'rules/px4' in line)
    assert header.split() == ['rules/px4', 'rules/mavros']  # a column per interface
    for result in report['results']:
        modes = [name for _, name in result['autopilot_modes']]
        checks = {c['criterion']: c for c in result['checks']}
        states = [m['key'][1] for m in result['missions']]
        if result['name'] == 'takeoff_land_en':  # offboard to climb, PX4's own land
            assert modes == ['AUTO.LOITER', 'OFFBOARD', 'AUTO.LOITER', 'AUTO.LAND']
            assert states.count('completed') == 2 and 'aborted' not in states
            assert [c['command'] for c in result['vehicle_commands']] == ['hold', 'land']
            continue
        abort = checks['autopilot_abort']['measured']
        assert abort['offboard_requests_after'] == abort['offboard_entries_after'] == 0
        if result['name'] == 'rc_takeover_en':
            assert abort['reason'] == 'autopilot took over (mode POSCTL)'
            assert modes[-1] == 'POSCTL' and modes.count('OFFBOARD') == 2  # takeoff, leg
            refused = {}  # each mission's abort reason: the leg's, then the later command's
            for m in result['missions']:
                if m['key'][1] == 'aborted':
                    refused.setdefault(m['key'][0], m['reason'])
            assert list(refused.values()) == [
                'autopilot took over (mode POSCTL)',
                'autopilot took over (mode POSCTL): waiting for an operator resume']
            assert checks['holds_during_fault']['ok']
        else:
            assert abort['reason'].startswith('offboard not granted after 3 attempts')
            assert modes == ['AUTO.LOITER'] and checks['stays_on_ground']['ok']
