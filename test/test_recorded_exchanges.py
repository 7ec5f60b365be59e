"""The remote source against exchanges recorded from real servers (and, where none can run
here, documented-behaviour fakes), replayed in order over HTTP on 127.0.0.1.

Each file in test/data/remote_exchanges/ was made by scripts/interop/record_exchanges.py: the
command alone, then the command with a camera frame, through `remote_dialect: auto`. The
replay answers a request only if it has the method, path and form (where the schema goes,
content form, image, model, seed field) of the recorded one, so a change in what the client
sends to any server fails here. `recorded_from` says real or fake; the server table of
docs/remote.md and the interop note say which server versions.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from ministral_node.decision import CommandInfo
from ministral_node.inputs.camera import Frame
from ministral_node.sources import dialects
from ministral_node.sources.base import DeciderError, DecisionRequest
from ministral_node.sources.remote import RemoteDecider, RemoteSettings
from ministral_node.timing import Cancellation, Deadline, MonotonicClock

DATA = Path(__file__).parent / 'data' / 'remote_exchanges'
RECORDINGS = sorted(DATA.glob('*.json'))
KEY_ENV = 'MINISTRAL_RECORD_KEY'
CLOCK = MonotonicClock()


class _Replay(ThreadingHTTPServer):
    def __init__(self, exchanges: list[dict]) -> None:
        super().__init__(('127.0.0.1', 0), _ReplayHandler)
        self.exchanges = list(exchanges)
        self.mismatches: list[str] = []
        self.lock = threading.Lock()


class _ReplayHandler(BaseHTTPRequestHandler):
    server: _Replay

    def _answer(self) -> None:
        length = int(self.headers.get('Content-Length') or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        with self.server.lock:
            expected = self.server.exchanges.pop(0) if self.server.exchanges else None
        got = (self.command, self.path, dialects.request_form(body) if body else None)
        if expected is None:
            want = None
        else:
            request = expected['request']
            want = (request['method'], request['path'],
                    dialects.request_form(request['body']) if 'body' in request else None)
        if got != want:
            self.server.mismatches.append(f'sent {got}, recorded {want}')
            status, headers, payload = 599, {}, {'error': 'not what was recorded'}
        else:
            response = expected['response']
            status, headers, payload = response['status'], response['headers'], \
                response['body']
        data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
        self.send_response(status)
        for name, value in headers.items():
            if name != 'content-type':
                self.send_header(name, value)
        self.send_header('Content-Type', headers.get('content-type', 'application/json'))
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _answer  # noqa: N815 - the names http.server calls

    def log_message(self, *args) -> None:
        pass


def _scenario(image: bool, command: str) -> DecisionRequest:
    frame = None
    if image:
        y, x = np.mgrid[0:48, 0:64]
        frame = Frame(np.stack([x * 4, y * 5, (x + y) * 2], -1).astype(np.uint8), 100.0,
                      'camera')
    return DecisionRequest(CommandInfo('c1', command, 100.0), frame)


def test_every_dialect_has_a_recording():
    recorded = {outcome['dialect'] for path in RECORDINGS
                for outcome in json.loads(path.read_text())['outcomes']}
    assert recorded >= set(dialects.DIALECTS)


@pytest.mark.parametrize('path', RECORDINGS, ids=lambda p: p.stem)
def test_a_recorded_exchange_replays_with_the_same_requests_and_outcomes(path, monkeypatch):
    record = json.loads(path.read_text())
    assert record['recorded_from'] in ('real', 'fake') and record['server']
    settings = record['settings']
    if settings['api_key']:
        monkeypatch.setenv(KEY_ENV, 'replayed-key')
    replay = _Replay(record['exchanges'])
    thread = threading.Thread(target=replay.serve_forever, kwargs={'poll_interval': 0.05})
    thread.start()
    try:
        decider = RemoteDecider(RemoteSettings(
            url=f'http://127.0.0.1:{replay.server_address[1]}', model=settings['model'],
            api_key_env=KEY_ENV, image_edge=settings['image_edge'],
            max_tokens=settings['max_tokens'], temperature=settings['temperature'],
            seed=settings['seed']))
        for expected in record['outcomes']:
            request = _scenario(expected['image'], record['command'])
            try:
                proposal = decider.decide(request, Cancellation(Deadline(CLOCK, 30.0)))
                outcome = {'proposal': proposal.to_dict()}
            except DeciderError as exc:
                outcome = {'error': type(exc).__name__, 'message': str(exc)}
            outcome['text_only'] = bool(decider.text_only)
            assert replay.mismatches == []
            assert outcome == {k: v for k, v in expected.items()
                               if k in ('proposal', 'error', 'message', 'text_only')}
            assert decider.detection.dialect.name == expected['dialect']
        assert replay.exchanges == []  # every recorded request was made
    finally:
        replay.shutdown()
        thread.join()
        replay.server_close()
