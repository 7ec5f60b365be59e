"""The remote source against a real server on this machine, when one is named.

    MINISTRAL_INTEROP_URL=http://127.0.0.1:8080 pytest test/test_interop.py
    # optional: MINISTRAL_INTEROP_MODEL (remote_model), MINISTRAL_INTEROP_DIALECT (not auto)

Skipped without MINISTRAL_INTEROP_URL (CI replays recorded exchanges instead:
test_recorded_exchanges.py). Only loopback servers are accepted. Any model works, random
weights included: on dialects that carry our grammar every sampled reply must be a valid
decision; on the others a reply may be wrong, but only as a precisely reported InvalidOutput.
"""

import os
from urllib.parse import urlsplit

import numpy as np
import pytest

from ministral_node.core.fallback import FallbackChain
from ministral_node.decision import CommandInfo
from ministral_node.inputs.camera import Frame
from ministral_node.sources import dialects
from ministral_node.sources.base import DecisionRequest
from ministral_node.sources.remote import InvalidOutput, RemoteDecider, RemoteSettings
from ministral_node.sources.rules import RuleDecider
from ministral_node.timing import Cancellation, Deadline, MonotonicClock

URL = os.environ.get('MINISTRAL_INTEROP_URL', '')
CLOCK = MonotonicClock()
BUDGET_S = 120.0

pytestmark = pytest.mark.skipif(not URL, reason='set MINISTRAL_INTEROP_URL to a server on '
                                                '127.0.0.1 to run the interop tests')


def _settings(**changes) -> RemoteSettings:
    assert urlsplit(URL).hostname in ('127.0.0.1', 'localhost', '::1'), \
        'interop tests talk to servers on this machine only'
    return RemoteSettings(**{'url': URL, 'model': os.environ.get('MINISTRAL_INTEROP_MODEL', ''),
                             'dialect': os.environ.get('MINISTRAL_INTEROP_DIALECT', 'auto'),
                             'image_edge': 128, **changes})


def _request(image: bool) -> DecisionRequest:
    frame = None
    if image:
        y, x = np.mgrid[0:96, 0:128]
        frame = Frame(np.stack([x * 2, y * 2, x + y], -1).astype(np.uint8), 0.0, 'camera')
    return DecisionRequest(CommandInfo('c1', 'land here', 0.0), frame)


def test_the_endpoint_answers_the_probe_and_its_dialect_is_known():
    decider = RemoteDecider(_settings())
    probe = decider.probe(10.0)
    assert probe.ok, probe.reason
    assert probe.dialect in dialects.DIALECTS


@pytest.mark.parametrize('image', [False, True], ids=['text', 'image'])
def test_the_remote_source_decides_with_and_without_an_image(image):
    decider = RemoteDecider(_settings(temperature=0.0, seed=1))
    chain = FallbackChain([decider, RuleDecider()], CLOCK, timeouts_s={'remote': BUDGET_S})
    result = chain.decide(_request(image), Deadline(CLOCK, BUDGET_S + 10))
    if decider.dialect().structured == dialects.GRAMMAR:
        assert result.source == 'remote', result.attempts
    remote = result.attempts[0]
    assert remote.source == 'remote'
    assert remote.outcome in ('ok', 'invalid'), remote.detail
    if image and decider.text_only:
        assert 'refused an image' in decider.text_only


def test_sampled_replies_are_valid_decisions_or_precisely_reported():
    decider = RemoteDecider(_settings(temperature=1.0, image_edge=0))
    grammar = None
    for seed in range(5):
        decider.configure_settings(_settings(temperature=1.0, image_edge=0, seed=seed))
        grammar = decider.dialect().structured == dialects.GRAMMAR
        try:
            decider.decide(_request(False), Cancellation(Deadline(CLOCK, BUDGET_S))).validate()
        except InvalidOutput as exc:
            assert not grammar, f'the grammar let an invalid reply through: {exc}'
            assert exc.problem in ('not_json', 'cut_off', 'schema')
