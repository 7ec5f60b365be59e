#!/usr/bin/env python3
"""Record the remote source's HTTP exchanges with a server on 127.0.0.1, for replay in CI.

    PYTHONPATH=. python scripts/interop/record_exchanges.py --url http://127.0.0.1:8080 \\
        --server "llama.cpp llama-server (version ...), tiny random GGUF" \\
        --out test/data/remote_exchanges/llama_cpp.json
    PYTHONPATH=. python scripts/interop/record_exchanges.py --fake tgi \\
        --out test/data/remote_exchanges/tgi.json

A recording proxy on 127.0.0.1 sits between `RemoteDecider` (remote_dialect auto) and the
server and keeps every request and reply. Two decisions are asked: the command alone, then the
command with a 64x48 camera frame. `--fake NAME` records against the documented-behaviour fake
of `fake_servers.py` instead (marked `"recorded_from": "fake"`). Only loopback URLs are taken.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fake_servers import FAKES, serve

from ministral_node.decision import CommandInfo
from ministral_node.inputs.camera import Frame
from ministral_node.sources.base import DeciderError, DecisionRequest
from ministral_node.sources.dialects import request_form
from ministral_node.sources.remote import RemoteDecider, RemoteSettings
from ministral_node.timing import Cancellation, Deadline, MonotonicClock

KEPT_HEADERS = ('server', 'content-type', 'x-compute-type')
COMMAND = 'land here'
KEY_ENV = 'MINISTRAL_RECORD_KEY'


def _json_or_text(data: bytes) -> Any:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return data.decode('utf-8', 'replace')


def recording_proxy(upstream: str, log: list[dict]) -> ThreadingHTTPServer:
    """A proxy on 127.0.0.1 forwarding to `upstream` and appending each exchange to `log`."""
    target = urlsplit(upstream)
    if target.hostname not in ('127.0.0.1', 'localhost', '::1'):
        raise SystemExit(f'{upstream}: only servers on this machine (loopback) are recorded')

    class Proxy(BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'

        def _forward(self) -> None:
            length = int(self.headers.get('content-length') or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() not in ('host', 'connection')}
            upstream_conn = http.client.HTTPConnection(target.hostname, target.port, timeout=300)
            upstream_conn.request(self.command, self.path, body, headers)
            reply = upstream_conn.getresponse()
            data = reply.read()
            reply_headers = {k.lower(): v for k, v in reply.getheaders()}
            upstream_conn.close()
            request: dict[str, Any] = {'method': self.command, 'path': self.path}
            if 'authorization' in {k.lower() for k in headers}:
                request['authorization'] = 'Bearer (redacted)'
            if body:
                request['body'] = _json_or_text(body)
                request['form'] = request_form(request['body'])
            log.append({'request': request, 'response': {
                'status': reply.status,
                'headers': {k: v for k, v in reply_headers.items() if k in KEPT_HEADERS},
                'body': _json_or_text(data)}})
            self.send_response(reply.status)
            for name, value in reply_headers.items():
                if name not in ('transfer-encoding', 'connection', 'content-length'):
                    self.send_header(name, value)
            self.send_header('content-length', str(len(data)))
            self.send_header('connection', 'close')
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _forward  # noqa: N815 - the names http.server calls

        def log_message(self, *args: Any) -> None:
            pass

    proxy = ThreadingHTTPServer(('127.0.0.1', 0), Proxy)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    return proxy


def scenario_request(image: bool) -> DecisionRequest:
    frame = None
    if image:
        y, x = np.mgrid[0:48, 0:64]
        frame = Frame(np.stack([x * 4, y * 5, (x + y) * 2], -1).astype(np.uint8), 100.0,
                      'camera')
    return DecisionRequest(CommandInfo('c1', COMMAND, 100.0), frame)


def run_scenarios(settings: RemoteSettings, budget_s: float) -> list[dict]:
    """Ask the two decisions; what each ended with."""
    decider = RemoteDecider(settings)
    clock = MonotonicClock()
    outcomes = []
    for name, image in (('text', False), ('image', True)):
        try:
            proposal = decider.decide(scenario_request(image),
                                      Cancellation(Deadline(clock, budget_s)))
            outcome = {'proposal': proposal.to_dict()}
        except (DeciderError, ValueError) as exc:
            outcome = {'error': type(exc).__name__, 'message': str(exc)}
        detection = decider.detection
        outcomes.append({'name': name, 'image': image, **outcome,
                         'dialect': detection.dialect.name if detection else None,
                         'text_only': bool(decider.text_only)})
    return outcomes


def main() -> int:
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = cli.add_mutually_exclusive_group(required=True)
    where.add_argument('--url', help='a server on 127.0.0.1')
    where.add_argument('--fake', choices=sorted(FAKES))
    cli.add_argument('--server', default='', help='what the server is (name, version, model)')
    cli.add_argument('--how', default='', help='how it was started')
    cli.add_argument('--model', default='', help='remote_model to configure')
    cli.add_argument('--max-tokens', type=int, default=384)
    cli.add_argument('--seed', type=int, default=5)
    cli.add_argument('--temperature', type=float, default=0.0)
    cli.add_argument('--budget-s', type=float, default=120.0)
    cli.add_argument('--out', required=True)
    args = cli.parse_args()
    fake = None
    if args.fake:
        fake = FAKES[args.fake]()
        _, url = serve(fake)
        os.environ[KEY_ENV] = 'fake-key'
    else:
        url = args.url
    log: list[dict] = []
    proxy = recording_proxy(url, log)
    settings = RemoteSettings(url=f'http://127.0.0.1:{proxy.server_address[1]}',
                              model=args.model or (fake.model if fake and len(fake.models) > 1
                                                   else ''),
                              api_key_env=KEY_ENV, image_edge=64, max_tokens=args.max_tokens,
                              temperature=args.temperature, seed=args.seed)
    outcomes = run_scenarios(settings, args.budget_s)
    proxy.shutdown()
    record = {
        'recorded_from': 'fake' if fake else 'real',
        'server': args.server or (f'fake {args.fake} (scripts/interop/fake_servers.py, from '
                                  'its documented request handling)' if fake else ''),
        'how': args.how,
        'settings': {'model': settings.model, 'image_edge': settings.image_edge,
                     'max_tokens': settings.max_tokens, 'temperature': settings.temperature,
                     'seed': settings.seed, 'api_key': bool(fake)},
        'command': COMMAND,
        'outcomes': outcomes,
        'exchanges': log,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(record, indent=1, ensure_ascii=False) + '\n')
    for outcome in outcomes:
        print(json.dumps({k: v for k, v in outcome.items() if k != 'proposal'}),
              'proposal' in outcome)
    return 0


if __name__ == '__main__':
    sys.exit(main())
