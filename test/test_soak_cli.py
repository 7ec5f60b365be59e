"""`ministral-soak` with lifecycle cycles under a command stream: every command answered exactly
once, also those sent while the node was unconfigured (between cleanup and configure)."""

from __future__ import annotations

import json
import os

from ros_harness import unique_domain

from ministral_node.cli import soak


def test_every_command_is_answered_once_through_lifecycle_cycles(tmp_path, monkeypatch):
    monkeypatch.setitem(os.environ, 'ROS_DOMAIN_ID', str(unique_domain()))
    out = tmp_path / 'soak.json'
    code = soak.main(['--minutes', '0.25', '--lifecycle-cycles', '3', '--camera-hz', '5',
                      '--command-period', '0.5', '--size', '160x120', '--json', str(out)])
    figures = json.loads(out.read_text())
    assert code == 0
    assert figures['commands_unanswered'] == 0
    assert figures['commands_answered_more_than_once'] == 0
    assert figures['refused_unconfigured'] >= 3  # one sent in each unconfigured window
    assert figures['decisions'] == figures['commands_sent']
