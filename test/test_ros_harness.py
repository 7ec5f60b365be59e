"""The test harness's ROS domain ids: two test runs at once never share one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ros_harness import DOMAINS, LEASES_KEPT, _leases, unique_domain

HERE = Path(__file__).resolve().parent


def test_another_test_process_never_gets_a_domain_this_one_holds():
    for _ in range(LEASES_KEPT):
        unique_domain()
    held = [domain for domain, _ in _leases]
    assert len(set(held)) == LEASES_KEPT
    # The other process asks once for every id in the range, so its walk passes them all.
    code = (f'import sys, json; sys.path.insert(0, {str(HERE)!r}); import ros_harness as r; '
            f'print(json.dumps([r.unique_domain() for _ in range({len(DOMAINS)})]))')
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                            check=True, timeout=60)
    theirs = json.loads(result.stdout)
    assert len(theirs) == len(DOMAINS) and not set(theirs) & set(held)
    assert set(theirs) <= set(DOMAINS)


def test_a_process_keeps_only_its_last_leases():
    got = [unique_domain() for _ in range(LEASES_KEPT + 3)]
    assert [domain for domain, _ in _leases] == got[-LEASES_KEPT:]
    assert len(set(got)) == len(got)
