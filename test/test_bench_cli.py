"""`ministral-bench` end to end on the small synthetic model, as `make bench` runs it on the 3B:
a documented command must not break silently. Figures are not asserted, only that they exist."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

from ros_harness import unique_domain

from ministral_node.cli import bench
from ministral_node.sources.base import DeciderError
from ministral_node.sources.onboard import OnboardDecider


def _bench(tmp_path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, 'ROS_AUTOMATIC_DISCOVERY_RANGE': 'LOCALHOST'}
    return subprocess.run([sys.executable, '-m', 'ministral_node.cli.bench', '--synthetic',
                           'tiny', '--cache-dir', str(tmp_path / 'cache'), *args],
                          capture_output=True, text=True, timeout=timeout, env=env)


def test_the_bench_completes_from_a_fresh_cache(tmp_path):
    out = tmp_path / 'bench.json'
    result = _bench(tmp_path, '--edges', '56', '--no-genai', '--decode-tokens', '2',
                    '--mask-steps', '20', '--json', str(out))
    assert result.returncode == 0, result.stderr[-2000:]
    doc = json.loads(out.read_text())
    assert doc['decision_s_edge_56'] is not None and doc['decode_ms_per_token'] > 0
    assert doc['decisions_refused'] == 0 and doc['decisions_failed'] == 0


def test_an_output_that_does_not_fit_is_counted_not_fatal(tmp_path, monkeypatch):
    """What ended `make bench` on the 3B: random weights wrote a mission longer than the
    budget and the decider refused it."""
    model = bench.synthetic_model('tiny', tmp_path / 'cache')
    decide = OnboardDecider.decide

    def cut(self, request, cancel):
        decide(self, request, cancel)
        raise DeciderError('onboard model output was cut to fit max_new_tokens')

    monkeypatch.setattr(OnboardDecider, 'decide', cut)
    args = argparse.Namespace(providers=['cpu'], threads=0, variant='q4', max_new_tokens=1024,
                              edges=[56], compare_prefix=False, decode_tokens=2)
    run = bench.run_config(model, 'current', args)
    assert run['decisions_refused'] == len(run['decisions']) > 0
    assert all(d['outcome'].startswith('refused: ') for d in run['decisions'].values())
    doc = bench.summary({'current': run}, None, 10.0, 1, 1, [56])
    assert doc['decisions_refused'] == run['decisions_refused']


def test_the_reflex_bench_measures_stops_over_dds(tmp_path):
    out = tmp_path / 'reflex.json'
    result = _bench(tmp_path, '--reflex', '--reflex-runs', '3', '--stop-after', '0.2',
                    '--domain-id', str(unique_domain()), '--json', str(out))
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(out.read_text())
    assert figures['runs'] == 3 and figures['unanswered'] == 0
    assert figures['node_arrival_to_publish_ms']['n'] == 3
    assert figures['sent_to_executor_holding_ms']['n'] == 3
    assert figures['busy_command_preempted'] + figures['busy_command_decided_before_stop'] == 3
    assert 'p95' in result.stdout
