"""The ground-station side: an OpenAI-compatible chat-completions server around our engine.

`ministral-serve` runs a `ChatServer` so a ground station can serve a larger Ministral to the
drones' `remote` decision source (any OpenAI-compatible client works too):

* `POST /v1/chat/completions`: system and user messages, text and `image_url` parts (base64
  data URLs only: the server fetches nothing), `response_format` `json_schema` (decoding is
  constrained with `JsonConstraint`; the schema is first made finite the way the onboard
  decoder's is: every key required, no extra keys, strings capped, numbers bounded, so a reply
  always completes within `max_tokens`), `max_tokens`, `temperature`, `top_p`, `seed`.
  The other servers' forms of the same request are understood too (`sources.dialects`):
  llama-cpp-python's `{"type": "json_object", "schema": ...}`, TGI's `{"type": "json",
  "value": ...}` and `{"type": "json_schema", "value": ...}`, a llama.cpp GBNF `grammar`
  (compiled by llguidance), Mistral's `random_seed`.
* `GET /v1/models`, `GET /health`.

Errors are OpenAI-shaped: 400 bad request, 401 bad API key (when one is required), 404 unknown
model or path, 503 no model or busy, 500 engine failure.

One generation at a time: a request waits up to `queue_wait_s` for the generator, then gets
503 with `Retry-After` (a drone's budget is short, and its fallback chain answers sooner than
a long queue). A client that disconnects (a drone whose deadline passed) cancels its
generation at once, freeing the generator for the next request.

Fault injection (tests and demos) through `server.faults`: a delay, garbage, a fixed reply or
an HTTP error status.
"""

from __future__ import annotations

import hmac
import json
import logging
import select
import socket
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import llguidance
import numpy as np

from ministral_node.decoding.chat_api import (
    CHAT_PATH,
    HEALTH_PATH,
    MODELS_PATH,
    error_body,
)
from ministral_node.decoding.constrained import JsonConstraint, generation_schema
from ministral_node.engine.engine import VisionLanguageEngine
from ministral_node.engine.generation import GenerationOptions
from ministral_node.inputs.image_conversion import ImageError, decode_data_url
from ministral_node.timing import Cancellation, Cancelled, Watcher

log = logging.getLogger(__name__)

GARBAGE_KINDS = ('content', 'proposal', 'body')
_GARBAGE_CONTENT = 'Sure! I think the drone should probably go up a bit.'
_GARBAGE_PROPOSAL = '{"action":"fly_to_the_moon","params":{},"confidence":2}'
_GARBAGE_BODY = b'<html><body>502 Bad Gateway</body></html>'
_DISCONNECT_POLL_S = 0.02


class RequestError(Exception):
    """A request the server answers with an error status and an OpenAI-shaped message."""

    def __init__(self, status: int, message: str, kind: str = 'invalid_request_error',
                 code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.code = code


@dataclass
class Faults:
    """Injected misbehaviour of `POST /v1/chat/completions`; tests may set it at any time."""

    delay_s: float = 0.0  # wait this long (holding the generator) before answering
    garbage: str = ''  # content: not JSON; proposal: JSON but no proposal; body: not JSON at all
    response: str | None = None  # reply with this content instead of generating
    status: int = 0  # answer with this HTTP error status

    def injects_content(self) -> bool:
        return bool(self.garbage) or self.response is not None


@dataclass(frozen=True)
class ServeOptions:
    """Server behaviour besides the engine's."""

    model_name: str = ''  # served model id; '' uses the model directory's name
    default_max_tokens: int = 384
    max_tokens_limit: int = 4096
    queue_wait_s: float = 2.0
    max_image_pixels: int = 40_000_000
    max_body_bytes: int = 32 * 1024 * 1024
    api_key: str = ''  # required as `Authorization: Bearer` when set


@dataclass
class ChatRequest:
    """A parsed chat-completions request (`ChatServer.last_request` keeps the newest)."""

    system: str
    text: str
    image: np.ndarray | None
    generation: GenerationOptions
    schema: dict | None
    model: str | None = None
    grammar: str | None = None  # GBNF (llama.cpp's `grammar` field)
    extras: dict[str, Any] = field(default_factory=dict)
    logprobs: bool = False  # return each token's log-probability (OpenAI `logprobs`)


def _number(value: Any, name: str, default: Any, low: float, high: float,
            integer: bool = False) -> Any:
    """`value` if it is a number in [low, high] (`default` if None), else RequestError."""
    if value is None:
        return default
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not low <= value <= high:
        kind = 'an integer' if integer else 'a number'
        raise RequestError(400, f'{name} must be {kind} from {low} to {high}, got {value!r}')
    return value


def _parts(content: Any, role: str) -> tuple[list[str], list[str]]:
    """Texts and image URLs of one message's content."""
    if isinstance(content, str):
        return [content], []
    if not isinstance(content, list):
        raise RequestError(400, f'{role} message content must be a string or a list of parts')
    texts, images = [], []
    for part in content:
        kind = part.get('type') if isinstance(part, dict) else None
        if kind == 'text' and isinstance(part.get('text'), str):
            texts.append(part['text'])
        elif kind == 'image_url':
            url = part.get('image_url')
            url = url.get('url') if isinstance(url, dict) else url
            if not isinstance(url, str):
                raise RequestError(400, 'image_url parts need an image_url.url string')
            images.append(url)
        else:
            raise RequestError(400, f'unsupported content part in a {role} message: '
                                    f'{json.dumps(part)[:80]}')
    return texts, images


def parse_chat_request(body: Any, options: ServeOptions) -> ChatRequest:
    """Check and unpack a chat-completions body; RequestError (400) says what is wrong."""
    if not isinstance(body, dict):
        raise RequestError(400, 'the body must be a JSON object')
    if body.get('stream'):
        raise RequestError(400, 'streaming is not supported')
    if body.get('n', 1) != 1:
        raise RequestError(400, 'only n=1 is supported')
    model = body.get('model')
    if model is not None and not isinstance(model, str):
        raise RequestError(400, 'model must be a string')
    messages = body.get('messages')
    if not isinstance(messages, list) or not messages:
        raise RequestError(400, 'messages must be a non-empty list')
    system, user, images = [], [], []
    users = 0
    for message in messages:
        role = message.get('role') if isinstance(message, dict) else None
        if role not in ('system', 'developer', 'user'):
            raise RequestError(400, f'unsupported message role {role!r}: one system and one '
                                    'user turn (no conversation history)')
        texts, urls = _parts(message.get('content'), role)
        if role == 'user':
            users += 1
            user += texts
            images += urls
        elif urls:
            raise RequestError(400, 'images belong in the user message')
        else:
            system += texts
    if not users:
        raise RequestError(400, 'there is no user message')
    if len(images) > 1:
        raise RequestError(400, f'at most one image per request, got {len(images)}')
    try:
        image = decode_data_url(images[0], options.max_image_pixels) if images else None
    except ImageError as exc:
        raise RequestError(400, f'bad image: {exc}') from exc
    max_tokens = _number(body.get('max_completion_tokens', body.get('max_tokens')),
                         'max_tokens', options.default_max_tokens, 1, options.max_tokens_limit,
                         integer=True)
    seed = _number(body.get('seed', body.get('random_seed')), 'seed', None, -2**63, 2**63 - 1,
                   integer=True)
    generation = GenerationOptions(
        max_new_tokens=max_tokens,
        temperature=float(_number(body.get('temperature'), 'temperature', 1.0, 0.0, 2.0)),
        top_p=float(_number(body.get('top_p'), 'top_p', 1.0, 0.0, 1.0)),
        seed=None if seed is None else seed % 2**63)  # numpy takes only non-negative seeds
    grammar = body.get('grammar')
    if grammar is not None and (not isinstance(grammar, str) or not grammar.strip()):
        raise RequestError(400, 'grammar must be a GBNF grammar string')
    schema = _schema(body.get('response_format'))
    if grammar is not None and schema is not None:
        raise RequestError(400, 'send either a grammar or a response_format schema, not both')
    return ChatRequest('\n\n'.join(system), '\n'.join(user), image, generation, schema,
                       model, grammar, logprobs=bool(body.get('logprobs')))


def _schema(response_format: Any) -> dict | None:
    """The schema of a `response_format` in any dialect's form (None: free text)."""
    if response_format is None:
        return None
    kind = response_format.get('type') if isinstance(response_format, dict) else None
    if kind == 'text':
        return None
    if kind == 'json_schema' and 'value' not in response_format:  # OpenAI, vLLM, llama.cpp
        spec = response_format.get('json_schema')
        schema = spec.get('schema') if isinstance(spec, dict) else None
        where = 'response_format.json_schema.schema'
    elif kind == 'json_schema':  # TGI 3: {"type": "json_schema", "value": {name, schema}}
        value = response_format['value']
        schema = value.get('schema', value) if isinstance(value, dict) else None
        where = 'response_format.value'
    elif kind == 'json':  # TGI: {"type": "json", "value": schema}
        schema, where = response_format.get('value'), 'response_format.value'
    elif kind == 'json_object' and 'schema' in response_format:  # llama-cpp-python
        schema, where = response_format['schema'], 'response_format.schema'
    else:
        raise RequestError(400, f'response_format type {kind!r} is not supported; use '
                                'json_schema (or text), or json_object with a schema')
    if not isinstance(schema, dict):
        raise RequestError(400, f'{where} must be a JSON Schema object')
    return schema


class GrammarConstraint(JsonConstraint):
    """A constraint from a GBNF grammar instead of a schema (llama.cpp's `grammar` field).

    Nothing reserves tokens to close the output: a grammar bounded the way `gbnf` makes them
    ends by itself; any other may stop at max_tokens, as on llama.cpp."""

    def __init__(self, tokenizer_json: str, eos_id: int, vocab_size: int | None,
                 gbnf: str) -> None:
        super().__init__(tokenizer_json, eos_id, vocab_size)
        try:
            self.grammar = llguidance.grammar_from('gbnf', gbnf)
        except ValueError as exc:
            raise RequestError(400, f'the grammar does not parse: {exc}') from exc
        error = llguidance.LLMatcher.validate_grammar(self.grammar, self.tokenizer)
        if error and not error.startswith('WARNING'):
            raise RequestError(400, f'the grammar does not compile: {error}')
        self._start = llguidance.LLMatcher(self.tokenizer, self.grammar, log_level=0)
        self.reserve_tokens = 0


class ChatServer(ThreadingHTTPServer):
    """OpenAI-compatible HTTP server around a `VisionLanguageEngine` (None: no model, 503)."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], engine: VisionLanguageEngine | None,
                 options: ServeOptions | None = None, faults: Faults | None = None) -> None:
        super().__init__(address, _Handler)
        self.engine = engine
        self.options = options or ServeOptions()
        self.faults = faults or Faults()
        self.last_request: ChatRequest | None = None
        self.served = 0
        self._generator = threading.Lock()
        self._constraints: OrderedDict[str, JsonConstraint] = OrderedDict()
        self._stopping = Cancellation()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """`http://host:port` the server listens on."""
        host, port = self.server_address[:2]
        return f'http://{host}:{port}'

    @property
    def model_name(self) -> str:
        if self.options.model_name:
            return self.options.model_name
        return self.engine.identity().name if self.engine is not None else 'none'

    @property
    def can_answer(self) -> bool:
        return self.engine is not None or self.faults.injects_content()

    @property
    def busy(self) -> bool:
        return self._generator.locked()

    def start(self) -> ChatServer:
        """Serve on a background thread (tests, embedding); `stop()` ends it."""
        self._thread = threading.Thread(target=self.serve_forever, name='ministral-serve',
                                        kwargs={'poll_interval': 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Cancel running generations, stop serving and close the socket."""
        self._stopping.cancel('server stopping')
        if self._thread is not None:
            self.shutdown()
            self._thread.join()
            self._thread = None
        self.server_close()

    def warm(self) -> None:
        """Compile the decision schema's constraint now rather than on the first request."""
        if self.engine is not None:
            self.constraint(generation_schema())

    def constraint(self, schema: dict) -> JsonConstraint:
        """The compiled constraint for `schema` made finite (the last few are cached)."""
        try:
            bounded = generation_schema(schema)
        except (ValueError, TypeError, KeyError, RecursionError) as exc:
            raise RequestError(400, f'the response schema cannot be made finite: '
                                    f'{type(exc).__name__}: {exc}') from exc

        def compile_schema() -> JsonConstraint:
            tokenizer = self.engine.tokenizer
            try:
                return JsonConstraint(tokenizer.to_json(), tokenizer.special.eos,
                                      tokenizer.vocab_size, schema=bounded)
            except (ValueError, TypeError, KeyError) as exc:
                raise RequestError(400, f'the response schema cannot be used: {exc}') from exc

        return self._cached(json.dumps(bounded, sort_keys=True), compile_schema)

    def grammar_constraint(self, gbnf: str) -> JsonConstraint:
        """The compiled constraint for a GBNF grammar (the last few are cached)."""
        tokenizer = self.engine.tokenizer
        return self._cached('gbnf:' + gbnf, lambda: GrammarConstraint(
            tokenizer.to_json(), tokenizer.special.eos, tokenizer.vocab_size, gbnf))

    def _cached(self, key: str, make: Any) -> JsonConstraint:
        cached = self._constraints.get(key)
        if cached is None:
            cached = self._constraints[key] = make()
            while len(self._constraints) > 8:
                self._constraints.popitem(last=False)
        self._constraints.move_to_end(key)
        return cached

    # Endpoints -----------------------------------------------------------------------------

    def models(self) -> dict:
        data = [{'id': self.model_name, 'object': 'model', 'created': 0,
                 'owned_by': 'ministral_node'}] if self.can_answer else []
        return {'object': 'list', 'data': data}

    def health(self) -> tuple[int, dict]:
        if not self.can_answer:
            return 503, {'status': 'unavailable', 'reason': 'no model loaded'}
        return 200, {'status': 'ok', 'model': self.model_name, 'busy': self.busy}

    def chat(self, body: Any, cancel: Cancellation) -> dict | bytes:
        """The completion for a parsed JSON body (bytes for injected garbage bodies)."""
        request = parse_chat_request(body, self.options)
        self.last_request = request
        faults = self.faults
        if faults.status:
            raise RequestError(faults.status, f'injected HTTP {faults.status}', 'server_error')
        if not self.can_answer:
            raise RequestError(503, 'no model loaded', 'server_error')
        if request.model is not None and request.model != self.model_name:
            raise RequestError(404, f'model {request.model!r} is not served here; this server '
                                    f'serves {self.model_name!r}', code='model_not_found')
        if not self._generator.acquire(timeout=self.options.queue_wait_s):
            raise RequestError(503, 'busy with another request; retry shortly', 'server_error',
                               code='busy')
        try:
            began = time.perf_counter()
            if faults.delay_s > 0 and self._wait(faults.delay_s, cancel):
                raise Cancelled(cancel.reason)
            if faults.injects_content():
                return self._injected(faults)
            text, finish, usage, pieces = self._generate(request, cancel)
            log.info('%d completion tokens in %.2f s (%s)', usage['completion_tokens'],
                     time.perf_counter() - began, finish)
            completion = self._completion(text, finish, usage)
            if request.logprobs:
                completion['choices'][0]['logprobs'] = {'content': [
                    {'token': piece, 'logprob': logprob} for piece, logprob in pieces]}
            return completion
        finally:
            self._generator.release()

    @staticmethod
    def _wait(seconds: float, cancel: Cancellation) -> bool:
        """Sleep up to `seconds`; True if cancelled meanwhile."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            if cancel.cancelled:
                return True
            time.sleep(min(left, 0.01))
        return cancel.cancelled

    def _injected(self, faults: Faults) -> dict | bytes:
        if faults.garbage == 'body':
            return _GARBAGE_BODY
        if faults.garbage:
            content = _GARBAGE_CONTENT if faults.garbage == 'content' else _GARBAGE_PROPOSAL
        else:
            content = faults.response or ''
        return self._completion(content, 'stop', {'prompt_tokens': 0, 'completion_tokens': 0})

    def _generate(self, request: ChatRequest, cancel: Cancellation
                  ) -> tuple[str, str, dict[str, int], list[tuple[str, float]]]:
        processor = None
        constraint = self.constraint(request.schema) if request.schema is not None else \
            self.grammar_constraint(request.grammar) if request.grammar is not None else None
        if constraint is not None:
            try:
                processor = constraint.processor(request.generation.max_new_tokens)
            except ValueError as exc:  # max_tokens below what the schema needs
                raise RequestError(400, str(exc)) from exc
        result = self.engine.generate(request.system, request.text, request.image,
                                      request.generation, cancel, processor)
        finish = 'length' if result.stop_reason == 'max_new_tokens' else 'stop'
        return result.text, finish, {'prompt_tokens': result.prompt_tokens,
                                     'completion_tokens': result.new_tokens}, \
            result.token_pieces(self.engine.tokenizer.decode)

    def _completion(self, content: str, finish: str, usage: dict[str, int]) -> dict:
        self.served += 1
        return {
            'id': f'chatcmpl-{uuid.uuid4().hex}',
            'object': 'chat.completion',
            'created': int(time.time()),
            'model': self.model_name,
            'choices': [{'index': 0, 'finish_reason': finish,
                         'message': {'role': 'assistant', 'content': content}}],
            'usage': {**usage, 'total_tokens': sum(usage.values())},
        }

    def authorised(self, header: str | None) -> bool:
        """Whether an Authorization header carries the required key (always, if none is)."""
        if not self.options.api_key:
            return True
        expected = f'Bearer {self.options.api_key}'.encode()
        return hmac.compare_digest((header or '').encode(), expected)

    def request_cancellation(self) -> Cancellation:
        """A cancellation for one request, fired when the server stops."""
        return Cancellation(parent=self._stopping)


class _DisconnectWatch(Watcher):
    """Cancels a request's generation when its client hangs up."""

    name = 'disconnect-watch'

    def __init__(self, sock: socket.socket, cancel: Cancellation) -> None:
        self.sock = sock
        self.cancel = cancel

    def watch(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                readable, _, _ = select.select([self.sock], [], [], _DISCONNECT_POLL_S)
                if not readable:
                    continue
                if self.sock.recv(1, socket.MSG_PEEK) == b'':
                    self.cancel.cancel('client disconnected')
            except (OSError, ValueError):
                self.cancel.cancel('client connection failed')
            return  # data waiting (a pipelined request) or gone: nothing more to learn


class _Handler(BaseHTTPRequestHandler):
    server: ChatServer
    protocol_version = 'HTTP/1.1'
    server_version = 'ministral-serve'

    def log_message(self, format: str, *args: Any) -> None:
        log.info('%s %s', self.address_string(), format % args)

    def _send(self, status: int, payload: dict | bytes,
              headers: dict[str, str] | None = None) -> None:
        if isinstance(payload, bytes):
            data, kind = payload, 'text/html'
        else:
            data, kind = json.dumps(payload, ensure_ascii=False).encode(), 'application/json'
        self.send_response(status)
        self.send_header('Content-Type', kind)
        self.send_header('Content-Length', str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, error: RequestError) -> None:
        headers = {'Retry-After': '1'} if error.code == 'busy' else None
        self._send(error.status, error_body(str(error), error.kind, error.code), headers)

    def _route(self) -> str:
        return self.path.split('?', 1)[0].rstrip('/') or '/'

    def do_GET(self) -> None:
        path = self._route()
        if path == HEALTH_PATH:
            self._send(*self.server.health())
        elif path == MODELS_PATH:
            if not self.server.authorised(self.headers.get('Authorization')):
                self._error(RequestError(401, 'missing or wrong API key', code='invalid_api_key'))
            else:
                self._send(200, self.server.models())
        else:
            self._error(RequestError(404, f'no such endpoint: GET {path}', code='not_found'))

    def do_POST(self) -> None:
        path = self._route()
        try:
            if path != CHAT_PATH:
                raise RequestError(404, f'no such endpoint: POST {path}', code='not_found')
            if not self.server.authorised(self.headers.get('Authorization')):
                raise RequestError(401, 'missing or wrong API key', code='invalid_api_key')
            body = self._json_body()
        except RequestError as exc:
            self.close_connection = True  # the unread body must not be taken for a request
            self._error(exc)
            return
        cancel = self.server.request_cancellation()
        try:
            with _DisconnectWatch(self.connection, cancel):
                reply = self.server.chat(body, cancel)
        except RequestError as exc:
            self._error(exc)
        except Cancelled as exc:
            log.info('request from %s cancelled: %s', self.address_string(), exc)
            self.close_connection = True
            if not cancel.reason.startswith('client'):
                self._error(RequestError(503, f'cancelled: {exc}', 'server_error'))
        except Exception as exc:  # any engine failure is a 500 with its reason
            log.exception('generation failed')
            self._error(RequestError(500, f'generation failed: {type(exc).__name__}: {exc}',
                                     'server_error'))
        else:
            self._send(200, reply)

    def _json_body(self) -> Any:
        length = self.headers.get('Content-Length')
        if length is None or not length.isdigit():
            raise RequestError(411, 'a Content-Length header is required')
        if int(length) > self.server.options.max_body_bytes:
            raise RequestError(413, f'the body is larger than '
                                    f'{self.server.options.max_body_bytes} bytes')
        raw = self.rfile.read(int(length))
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise RequestError(400, f'the body is not JSON: {exc}') from exc
