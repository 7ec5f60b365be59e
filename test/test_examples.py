"""The examples in `examples/` run as their readers will run them: one decision from Python
without ROS, and one command sent to a real node over DDS by an rclpy client."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ros_harness import Harness

from ministral_node.decision import validate_decision
from ministral_node.ros.node import MinistralNode

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / 'examples'


# Runs a script with rclpy made unimportable, as on a machine without ROS.
WITHOUT_ROS = ("import runpy, sys; sys.modules['rclpy'] = None; sys.argv = sys.argv[1:]; "
               "runpy.run_path(sys.argv[0], run_name='__main__')")


def _run(script: str, *args: str, env: dict | None = None,
         without_ros: bool = False) -> subprocess.CompletedProcess:
    environment = {**os.environ, 'PYTHONPATH': str(ROOT), **(env or {})}
    prefix = ['-c', WITHOUT_ROS] if without_ros else []
    return subprocess.run([sys.executable, *prefix, str(EXAMPLES / script), *args], cwd=ROOT,
                          env=environment, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize('path', sorted(EXAMPLES.glob('*.py')), ids=lambda p: p.name)
def test_each_example_stays_minimal(path):
    assert len(path.read_text().splitlines()) <= 60, f'{path.name}: keep an example short'


def test_deciding_one_command_from_python_without_ros():
    result = _run('decide_one.py', 'Monte à 30 mètres', without_ros=True)
    assert result.returncode == 0, result.stderr
    decision = json.loads(result.stdout)
    validate_decision(decision)
    assert (decision['action'], decision['params'], decision['source']) == \
        ('change_altitude', {'altitude_m': 30.0}, 'rules')
    assert decision['command']['text'] == 'Monte à 30 mètres'


@pytest.fixture
def node():
    h = Harness(MinistralNode)
    yield h
    h.close()


def test_a_ros_node_sends_a_command_and_prints_the_decision(node):
    result = _run('ros_command.py', 'take off to 10 m', '--ros-args', '-r',
                  f'__ns:={node.namespace}',
                  env={'ROS_DOMAIN_ID': str(node.domain),
                       'ROS_AUTOMATIC_DISCOVERY_RANGE': 'LOCALHOST'})
    assert result.returncode == 0, result.stdout + result.stderr
    printed = json.loads(result.stdout)
    validate_decision(printed)
    assert (printed['action'], printed['params']) == ('takeoff', {'altitude_m': 10.0})
    # the decision the node published for that command, not one the example made up
    assert printed['id'] in {d['id'] for d in node.decisions}
