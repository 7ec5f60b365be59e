"""Stand-ins for servers that cannot run here (no GPU, no model hub): vLLM, TGI, Ollama and
Mistral's API, built from their documented request handling, on 127.0.0.1 only.

Each fake checks what its server checks and answers in its server's shapes:

* vLLM: `/v1/models` items with `owned_by: "vllm"`, `root`, `max_model_len`; a `model` that is
  not served is a 404 `NotFoundError`; `response_format` json_schema.
* TGI (3.x): `owned_by` is the model id; `response_format` must be `{"type": "json" |
  "json_object" | "json_schema", "value": ...}`, anything else a 422 deserialisation error.
* Ollama: `owned_by: "library"`; `model` is required (400) and must be pulled (404).
* Mistral's API: many models (`owned_by: "mistralai"`, `capabilities`); Bearer key required
  (401); unknown fields such as `seed` are a 422 `extra_forbidden` (it takes `random_seed`);
  `model` required.

They answer every valid request with the same valid decision (they have no model); they exist
to record request/response exchanges in the servers' forms (`record_exchanges.py`), labelled
as fakes in the recordings.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DECISION = {'action': 'land', 'params': {}, 'target': None, 'confidence': 0.8,
            'rationale': 'the operator asked to land'}


def _completion(model: str, extra: dict | None = None, message: dict | None = None) -> dict:
    return {'id': 'chatcmpl-fake0001', 'object': 'chat.completion', 'created': 1764500000,
            'model': model,
            'choices': [{'index': 0, 'finish_reason': 'stop',
                         'message': {'role': 'assistant', 'content': json.dumps(DECISION),
                                     **(message or {})}}],
            'usage': {'prompt_tokens': 812, 'completion_tokens': 31, 'total_tokens': 843},
            **(extra or {})}


class Fake:
    """One fake server: its model listing, headers, and its checks of a chat request."""

    name = ''
    models: list[dict] = []
    headers: dict[str, str] = {}

    def check(self, body: dict, headers: dict[str, str]) -> tuple[int, dict]:
        raise NotImplementedError


class VLLM(Fake):
    name = 'vllm'
    model = 'mistralai/Ministral-3-8B-Instruct-2512'
    models = [{'id': model, 'object': 'model', 'created': 1764500000, 'owned_by': 'vllm',
               'root': model, 'parent': None, 'max_model_len': 32768, 'permission': []}]
    headers = {'server': 'uvicorn'}

    def check(self, body, headers):
        model = body.get('model', self.model)
        if model != self.model:
            return 404, {'error': {'message': f'The model `{model}` does not exist.',
                                   'type': 'NotFoundError', 'param': 'model', 'code': 404}}
        kind = (body.get('response_format') or {}).get('type')
        if kind not in (None, 'text', 'json_object', 'json_schema', 'structural_tag'):
            return 400, {'error': {'message': f'Invalid response_format type {kind!r}',
                                   'type': 'BadRequestError', 'param': None, 'code': 400}}
        return 200, _completion(model, {'prompt_logprobs': None},
                                {'refusal': None, 'tool_calls': [],
                                 'reasoning_content': None})


class TGI(Fake):
    name = 'tgi'
    model = 'mistralai/Ministral-3-8B-Instruct-2512'
    models = [{'id': model, 'object': 'model', 'created': 1764500000, 'owned_by': model}]
    headers = {'x-compute-type': 'gpu+optimized'}

    def check(self, body, headers):
        grammar = body.get('response_format')
        if grammar is not None and (grammar.get('type') not in ('json', 'json_object',
                                                                'json_schema', 'regex')
                                    or 'value' not in grammar):
            return 422, {'error': 'Failed to deserialize the JSON body into the target type: '
                                  'response_format: missing field `value`',
                         'error_type': 'validation'}
        return 200, _completion(self.model, {'system_fingerprint': '3.3.6-sha-fake'})


class Ollama(Fake):
    name = 'ollama'
    model = 'ministral-3:8b'
    models = [{'id': model, 'object': 'model', 'created': 1764500000, 'owned_by': 'library'}]

    def check(self, body, headers):
        model = body.get('model')
        if not model:
            return 400, {'error': {'message': 'model is required', 'type': 'api_error',
                                   'param': None, 'code': None}}
        if model != self.model:
            return 404, {'error': {'message': f'model "{model}" not found, try pulling it '
                                              'first', 'type': 'api_error', 'param': None,
                                   'code': None}}
        return 200, _completion(model, {'system_fingerprint': 'fp_ollama'})


class Mistral(Fake):
    name = 'mistral'
    model = 'ministral-8b-latest'
    models = [{'id': m, 'object': 'model', 'created': 1764500000, 'owned_by': 'mistralai',
               'capabilities': {'completion_chat': True, 'vision': True,
                                'function_calling': True}, 'type': 'base'}
              for m in ('ministral-8b-latest', 'ministral-3b-latest', 'mistral-small-latest')]
    fields = {'model', 'messages', 'temperature', 'top_p', 'max_tokens', 'stream', 'stop',
              'random_seed', 'response_format', 'tools', 'tool_choice', 'presence_penalty',
              'frequency_penalty', 'n', 'safe_prompt', 'prediction', 'parallel_tool_calls'}

    def check(self, body, headers):
        if not headers.get('authorization', '').startswith('Bearer '):
            return 401, {'message': 'Unauthorized', 'request_id': 'fake'}
        extra = sorted(set(body) - self.fields)
        if extra or 'model' not in body:
            detail = [{'type': 'extra_forbidden', 'loc': ['body', key],
                       'msg': 'Extra inputs are not permitted', 'input': body[key]}
                      for key in extra]
            if 'model' not in body:
                detail.append({'type': 'missing', 'loc': ['body', 'model'],
                               'msg': 'Field required', 'input': None})
            return 422, {'object': 'error', 'message': {'detail': detail},
                         'type': 'invalid_request_error', 'param': None, 'code': None}
        if body['model'] not in [m['id'] for m in self.models]:
            return 400, {'object': 'error', 'message': f'Invalid model: {body["model"]}',
                         'type': 'invalid_model', 'param': None, 'code': '1500'}
        return 200, _completion(body['model'])


FAKES: dict[str, type[Fake]] = {f.name: f for f in (VLLM, TGI, Ollama, Mistral)}


def serve(fake: Fake) -> tuple[ThreadingHTTPServer, str]:
    """Start `fake` on an ephemeral 127.0.0.1 port: (server, base URL)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'

        def _send(self, status: int, payload: Any) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header('content-type', 'application/json')
            for name, value in fake.headers.items():
                self.send_header(name, value)
            self.send_header('content-length', str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path.rstrip('/') == '/v1/models':
                self._send(200, {'object': 'list', 'data': fake.models})
            else:
                self._send(404, {'error': 'Not Found'})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers['content-length'])))
            headers = {k.lower(): v for k, v in self.headers.items()}
            self._send(*fake.check(body, headers))

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    time.sleep(0.05)
    return server, f'http://127.0.0.1:{server.server_address[1]}'
