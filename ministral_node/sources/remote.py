"""`RemoteDecider`: the ground station's larger model, over an OpenAI-compatible HTTP API.

    decider = RemoteDecider.from_params(values, health)  # parameters.py, `# Remote model`
    decider.load()                       # DeciderUnavailable without remote_url; starts the probe
    proposal = decider.decide(request, cancel)   # schema-valid Proposal or DeciderError
    decider.probe()                      # ProbeResult: is the endpoint up?
    decider.close()                      # stops the probe

It speaks what ministral-serve, vLLM, llama.cpp's server and Mistral's API speak: POST
`/v1/chat/completions` with the onboard model's system prompt and user text, the camera frame
as a JPEG data URL, and the generation schema as a strict `json_schema` response format.
Standard library HTTP only; the request never outlives the caller's deadline: the socket
timeout is the time left, and a watcher shuts the socket down the moment the cancellation
fires.
"""

from __future__ import annotations

import errno
import http.client
import json
import logging
import os
import re
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from ministral_node.chat_api import (
    CHAT_PATH,
    HEALTH_PATH,
    MODELS_PATH,
    Endpoint,
    error_message,
    parse_endpoint,
    response_format,
)
from ministral_node.confidence import MODEL_REPORTED, measured
from ministral_node.constrained import generation_schema
from ministral_node.decision import ConfidenceDetail, DecisionError, ModelInfo, Proposal, shorten
from ministral_node.health import ERROR, OK, HealthBoard
from ministral_node.image_conversion import jpeg_data_url
from ministral_node.sources.base import DeciderError, DeciderUnavailable, DecisionRequest
from ministral_node.sources.prompt import system_prompt, user_text
from ministral_node.timing import Cancellation, Cancelled, Deadline, MonotonicClock, Watcher

log = logging.getLogger(__name__)

DEFAULT_API_KEY_ENV = 'MINISTRAL_REMOTE_API_KEY'
NO_URL = 'no remote_url configured'
PROBE_TIMEOUT_S = 2.0
MAX_REPLY_BYTES = 4 * 1024 * 1024
# A request without any deadline still gives up on a silent server after this long.
MAX_WAIT_S = 300.0
_WATCH_POLL_S = 0.005
_API_KEY = re.compile(r'[!-~]+')
_UNREACHABLE = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.EHOSTDOWN,
                errno.EADDRNOTAVAIL}


@dataclass(frozen=True)
class RemoteSettings:
    """What the remote source sends and where (the `# Remote model` parameters and the shared
    sampling parameters)."""

    url: str = ''
    model: str = ''
    api_key_env: str = DEFAULT_API_KEY_ENV
    image_edge: int = 768
    jpeg_quality: int = 85
    health_period_s: float = 5.0
    max_tokens: int = 384
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int | None = None

    @classmethod
    def from_params(cls, values: Mapping[str, Any]) -> RemoteSettings:
        """Settings from parameter values; missing names keep their defaults."""
        base = cls()
        seed = int(values.get('seed', -1))
        return cls(
            url=str(values.get('remote_url', base.url)),
            model=str(values.get('remote_model', base.model)),
            api_key_env=str(values.get('remote_api_key_env', base.api_key_env)),
            image_edge=int(values.get('remote_image_edge', base.image_edge)),
            jpeg_quality=int(values.get('remote_jpeg_quality', base.jpeg_quality)),
            health_period_s=float(values.get('remote_health_period_s', base.health_period_s)),
            max_tokens=int(values.get('max_new_tokens', base.max_tokens)),
            temperature=float(values.get('temperature', base.temperature)),
            top_p=float(values.get('top_p', base.top_p)),
            seed=None if seed < 0 else seed)

    def endpoint(self) -> Endpoint | None:
        """The parsed `url` (None when empty); ValueError if it is not a usable URL."""
        return parse_endpoint(self.url) if self.url.strip() else None


@dataclass(frozen=True)
class ProbeResult:
    """One health check of the endpoint."""

    ok: bool
    reason: str
    latency_s: float = 0.0
    models: tuple[str, ...] = ()


class RemoteDecider:
    """Decides with a remote OpenAI-compatible model, constrained to the proposal schema."""

    source = 'remote'

    def __init__(self, settings: RemoteSettings | None = None,
                 health: HealthBoard | None = None) -> None:
        self.health = health
        self.last_probe: ProbeResult | None = None
        self._state = (RemoteSettings(), None)
        self._served_model = ''
        self._monitor: threading.Thread | None = None
        self._stop = threading.Event()
        self._loaded = False
        self.logprobs = True  # ask for token logprobs until the server refuses the field
        self.configure_settings(settings or RemoteSettings())

    @classmethod
    def from_params(cls, values: Mapping[str, Any],
                    health: HealthBoard | None = None) -> RemoteDecider:
        """Build from parameter values; `health` receives the endpoint probe's results."""
        return cls(RemoteSettings.from_params(values), health)

    @property
    def settings(self) -> RemoteSettings:
        return self._state[0]

    @property
    def endpoint(self) -> Endpoint | None:
        return self._state[1]

    def configure(self, values: Mapping[str, Any]) -> None:
        """Apply live parameter changes (URL, model, key variable, image, sampling, probe)."""
        self.configure_settings(RemoteSettings.from_params(values))

    def configure_settings(self, settings: RemoteSettings) -> None:
        """Use `settings` from the next request on; ValueError if the URL is unusable."""
        endpoint = settings.endpoint()
        if endpoint != self.endpoint or settings.model != self.settings.model:
            self._served_model = ''
        self._state = (settings, endpoint)
        if self._loaded:
            self._sync_monitor()

    def load(self) -> None:
        """Start the endpoint probe; `DeciderUnavailable` when no URL is configured."""
        self._loaded = True
        self._sync_monitor()
        if self.endpoint is None:
            raise DeciderUnavailable(NO_URL)

    def close(self) -> None:
        """Stop the endpoint probe."""
        self._loaded = False
        self._sync_monitor()

    def model_info(self) -> ModelInfo | None:
        """The model name (configured, else as the server reported it) and the endpoint."""
        settings, endpoint = self._state
        if endpoint is None:
            return None
        return ModelInfo(settings.model or self._served_model or 'unknown', 'remote',
                         endpoint.origin)

    # Deciding ----------------------------------------------------------------------------------

    def request_body(self, request: DecisionRequest,
                     settings: RemoteSettings | None = None) -> dict:
        """The chat-completions request for `request`: the onboard prompt, the frame, the
        schema."""
        settings = settings or self.settings
        if settings.image_edge <= 0:
            request = replace(request, frame=None)  # the text then says there is no image
        content: list[dict] = []
        if request.frame is not None:
            url = jpeg_data_url(request.frame.image, settings.image_edge,
                                settings.jpeg_quality)
            content.append({'type': 'image_url', 'image_url': {'url': url}})
        content.append({'type': 'text', 'text': user_text(request)})
        body: dict[str, Any] = {
            'messages': [{'role': 'system', 'content': system_prompt()},
                         {'role': 'user', 'content': content}],
            'response_format': response_format(generation_schema()),
            'max_tokens': settings.max_tokens,
            'temperature': settings.temperature,
            'top_p': settings.top_p,
        }
        if settings.model:
            body['model'] = settings.model
        if settings.seed is not None:
            body['seed'] = settings.seed
        return with_logprobs(body) if self.logprobs else body

    def decide(self, request: DecisionRequest, cancel: Cancellation) -> Proposal:
        """A schema-valid proposal from the remote model, or DeciderError saying why."""
        settings, endpoint = self._state
        if endpoint is None:
            raise DeciderUnavailable(NO_URL)
        cancel.check()
        body = json.dumps(self.request_body(request, settings), ensure_ascii=False,
                          separators=(',', ':')).encode()
        headers = {**self._headers(settings), 'Content-Type': 'application/json'}
        status, data = exchange(endpoint, 'POST', endpoint.path(CHAT_PATH), body, headers,
                                cancel)
        if self.logprobs and refuses_logprobs(status, data):
            self.logprobs = False
            log.warning('remote model at %s refuses logprobs: confidence is what it writes',
                        endpoint.origin)
            body = json.dumps(self.request_body(request, settings), ensure_ascii=False,
                              separators=(',', ':')).encode()
            status, data = exchange(endpoint, 'POST', endpoint.path(CHAT_PATH), body, headers,
                                    cancel)
        if status != 200:
            raise self._http_error(status, data, settings, endpoint)
        try:
            reply = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise DeciderError(f'remote reply is not JSON ({len(data)} bytes): '
                               f'{shorten(data[:120].decode("utf-8", "replace"), 120)!r}'
                               ) from exc
        content, finish = _content(reply)
        if isinstance(reply.get('model'), str):
            self._served_model = reply['model']
        try:
            proposal = Proposal.from_json(content)
        except DecisionError as exc:
            cut = ' (cut off at max_tokens)' if finish == 'length' else ''
            raise DeciderError(f'remote model output is not a valid proposal{cut}: {exc}'
                               ) from exc
        return reply_confidence(proposal, reply, content)

    @staticmethod
    def _headers(settings: RemoteSettings) -> dict[str, str]:
        headers = {'Accept': 'application/json', 'Connection': 'close',
                   'User-Agent': 'ministral_node'}
        key = os.environ.get(settings.api_key_env, '').strip() if settings.api_key_env else ''
        if key and not _API_KEY.fullmatch(key):
            # Never echo it: the reason is logged and published.
            raise DeciderError(f'${settings.api_key_env} does not hold a usable API key '
                               '(printable ASCII without spaces expected)')
        if key:
            headers['Authorization'] = f'Bearer {key}'
        return headers

    @staticmethod
    def _http_error(status: int, data: bytes, settings: RemoteSettings,
                    endpoint: Endpoint) -> DeciderError:
        message = shorten(error_message(data), 200)
        where = f'remote model at {endpoint.origin}'
        if status in (401, 403):
            present = 'set' if os.environ.get(settings.api_key_env) else 'not set'
            return DeciderError(f'{where} refused the request (HTTP {status}: {message}); the '
                                f'API key comes from ${settings.api_key_env} ({present})')
        if status == 503:
            return DeciderUnavailable(f'{where} is unavailable (HTTP 503: {message})')
        return DeciderError(f'{where} answered HTTP {status}: {message}')

    # Health ------------------------------------------------------------------------------------

    def probe(self, timeout_s: float = PROBE_TIMEOUT_S) -> ProbeResult:
        """GET /v1/models (or /health where there is none) within `timeout_s`: is it up, and
        does it serve the configured model?"""
        settings, endpoint = self._state
        if endpoint is None:
            return ProbeResult(False, NO_URL)
        clock = MonotonicClock()
        began = clock.now()
        cancel = Cancellation(Deadline(clock, timeout_s))
        try:
            headers = self._headers(settings)
            status, data = exchange(endpoint, 'GET', endpoint.path(MODELS_PATH), None, headers,
                                    cancel)
            if status == 404:
                status, data = exchange(endpoint, 'GET', endpoint.path(HEALTH_PATH), None,
                                        headers, cancel)
                models = None
            else:
                models = _model_ids(data) if status == 200 else None
        except (DeciderError, Cancelled) as exc:
            return ProbeResult(False, str(exc) or 'no answer in time', clock.now() - began)
        latency = clock.now() - began
        if status != 200:
            return ProbeResult(False, str(self._http_error(status, data, settings, endpoint)),
                               latency)
        if models is None:
            return ProbeResult(True, f'{endpoint.origin} is healthy', latency)
        if not models:
            return ProbeResult(False, f'{endpoint.origin} serves no model', latency)
        if settings.model and settings.model not in models:
            return ProbeResult(False, f'{endpoint.origin} does not serve {settings.model!r} '
                                      f'(it serves {", ".join(models[:5])})', latency, models)
        if not self._served_model and not settings.model:
            self._served_model = models[0]
        return ProbeResult(True, f'{endpoint.origin} serves {", ".join(models[:5])}', latency,
                           models)

    def check_health(self) -> ProbeResult:
        """Probe once and record the result in the health board (component `remote`)."""
        result = self.probe(min(PROBE_TIMEOUT_S, max(0.1, self.settings.health_period_s)))
        self.last_probe = result
        if self.health is not None:
            self.health.set(self.source, OK if result.ok else ERROR,
                            ('endpoint ' if result.ok else 'endpoint check failed: ')
                            + result.reason, probe_ms=f'{result.latency_s * 1000:.0f}')
        if not result.ok:
            log.debug('remote endpoint check failed: %s', result.reason)
        return result

    def _sync_monitor(self) -> None:
        """Run the periodic probe while loaded, configured and a period is set."""
        wanted = (self._loaded and self.health is not None and self.endpoint is not None
                  and self.settings.health_period_s > 0)
        running = self._monitor is not None and self._monitor.is_alive()
        if wanted and not running:
            self._stop = threading.Event()
            self._monitor = threading.Thread(target=self._watch, args=(self._stop,),
                                             name='remote-probe', daemon=True)
            self._monitor.start()
        elif not wanted and running:
            self._stop.set()
            if not self._loaded:  # closing: no probe result may land after close()
                self._monitor.join(PROBE_TIMEOUT_S + 1.0)
            self._monitor = None

    def _watch(self, stop: threading.Event) -> None:
        while not stop.is_set():
            period = self.settings.health_period_s
            if period <= 0 or self.endpoint is None:
                return
            self.check_health()
            stop.wait(period)


def with_logprobs(body: dict) -> dict:
    """`body` asking for each token's log-probability (OpenAI `logprobs`; vLLM, llama.cpp,
    TGI and ministral-serve return them, servers without the field ignore it)."""
    return {**body, 'logprobs': True}


def refuses_logprobs(status: int, data: bytes) -> bool:
    """Whether an error reply says the server does not take the `logprobs` field."""
    return status in (400, 422) and b'logprobs' in data


def reply_confidence(proposal: Proposal, reply: dict, content: str) -> Proposal:
    """`proposal` with its confidence measured from the reply's token logprobs when the
    server sent them; otherwise the model's own number, marked `model_reported`."""
    tokens = ((reply.get('choices') or [{}])[0].get('logprobs') or {}).get('content')
    try:
        pieces = [(str(t['token']), float(t['logprob'])) for t in tokens]
    except (KeyError, TypeError, ValueError):
        pieces = []
    if pieces and ''.join(piece for piece, _ in pieces) == content:
        return measured(proposal, pieces, content)
    proposal.confidence_detail = ConfidenceDetail(
        MODEL_REPORTED, proposal.confidence, {},
        'the server returned no token logprobs: the confidence is the number the model wrote')
    return proposal


def _content(reply: Any) -> tuple[str, str | None]:
    """The first choice's text and finish reason; DeciderError when the reply has none."""
    choices = reply.get('choices') if isinstance(reply, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise DeciderError('remote reply has no choices')
    message = choices[0].get('message')
    if not isinstance(message, dict):
        raise DeciderError('remote reply has no message in its first choice')
    if message.get('refusal'):
        raise DeciderError(f'remote model refused: {shorten(str(message["refusal"]), 200)}')
    content = message.get('content')
    if isinstance(content, list):  # content parts, as some servers send
        content = ''.join(part.get('text', '') for part in content if isinstance(part, dict))
    if not isinstance(content, str) or not content.strip():
        raise DeciderError('remote reply has no content')
    return content, choices[0].get('finish_reason')


def _model_ids(data: bytes) -> tuple[str, ...]:
    """Model ids of a /v1/models reply; () when it lists none or is not such a list."""
    try:
        listing = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return ()
    items = listing.get('data') if isinstance(listing, dict) else None
    if not isinstance(items, list):
        return ()
    return tuple(item['id'] for item in items
                 if isinstance(item, dict) and isinstance(item.get('id'), str))


# HTTP --------------------------------------------------------------------------------------------

class _ShutdownOnCancel(Watcher):
    """Shuts the request's socket down as soon as `cancel` fires, waking a blocked connect,
    send or receive (a socket timeout alone restarts with every receive, and misses an
    explicit cancel)."""

    name = 'remote-deadline'

    def __init__(self, cancel: Cancellation) -> None:
        self.cancel = cancel
        self.sock: socket.socket | None = None

    def watch(self, stop: threading.Event) -> None:
        while not stop.wait(_WATCH_POLL_S):
            sock = self.sock
            if sock is not None and self.cancel.cancelled:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                    return
                except OSError:
                    pass  # not connecting yet, or closed already: try again next poll

    def create_connection(self, address: tuple[str, int], timeout: float | None,
                          source_address: tuple[str, int] | None = None) -> socket.socket:
        """`socket.create_connection` that lets the watcher see the socket while it connects
        (shutting down a socket in SYN_SENT aborts its connect)."""
        failure: OSError | None = None
        for family, kind, proto, _, where in socket.getaddrinfo(*address,
                                                                type=socket.SOCK_STREAM):
            sock = socket.socket(family, kind, proto)
            self.sock = sock
            try:
                sock.settimeout(timeout)
                if source_address:
                    sock.bind(source_address)
                sock.connect(where)
                return sock
            except OSError as exc:
                sock.close()
                failure = exc
                if self.cancel.cancelled:
                    break
        raise failure or OSError(f'no address for {address[0]}')


def _time_left(cancel: Cancellation) -> float:
    return max(0.001, min(cancel.remaining(), MAX_WAIT_S))


def exchange(endpoint: Endpoint, method: str, path: str, body: bytes | None,
             headers: Mapping[str, str], cancel: Cancellation,
             limit: int | None = None) -> tuple[int, bytes]:
    """One HTTP request within `cancel`'s deadline: (status, body).

    Raises `Cancelled` when the deadline passes or the cancellation fires, `DeciderUnavailable`
    when the server cannot be reached (refused, unreachable, unknown host), and `DeciderError`
    for a broken connection or a reply larger than `limit` (default MAX_REPLY_BYTES).
    """
    cancel.check()
    limit = MAX_REPLY_BYTES if limit is None else limit
    began = time.monotonic()
    kind = http.client.HTTPSConnection if endpoint.scheme == 'https' else \
        http.client.HTTPConnection
    connection = kind(endpoint.host, endpoint.port, timeout=_time_left(cancel))
    where = endpoint.origin
    try:
        with _ShutdownOnCancel(cancel) as watcher:
            connection._create_connection = watcher.create_connection  # http.client's hook
            connection.connect()
            # Our own reference: http.client drops connection.sock when the reply closes it.
            sock = watcher.sock = connection.sock
            connection.request(method, path, body, dict(headers))
            sock.settimeout(_time_left(cancel))
            response = connection.getresponse()
            chunks, size = [], 0
            while not response.isclosed():  # closed (with its socket) once fully read
                sock.settimeout(_time_left(cancel))
                chunk = response.read(65536)
                if not chunk:
                    break
                size += len(chunk)
                if size > limit:
                    raise DeciderError(f'reply from {where} is larger than {limit} bytes')
                chunks.append(chunk)
            # A socket shut down by the watcher reads as a clean end of the reply.
            cancel.check()
            return response.status, b''.join(chunks)
    except Cancelled as exc:
        raise Cancelled(f'{exc} after {time.monotonic() - began:.2f} s waiting for {where}'
                        ) from None
    except DeciderError:
        raise
    except (OSError, http.client.HTTPException) as exc:
        waited = time.monotonic() - began
        if cancel.cancelled or isinstance(exc, TimeoutError):
            reason = cancel.reason or 'no reply in time'
            raise Cancelled(f'{reason} after {waited:.2f} s waiting for {where}') from exc
        if isinstance(exc, ConnectionRefusedError):
            raise DeciderUnavailable(f'remote model at {where} refused the connection '
                                     '(is the server running?)') from exc
        if isinstance(exc, socket.gaierror):
            raise DeciderUnavailable(f'cannot resolve {endpoint.host}: {exc.strerror}') from exc
        if isinstance(exc, OSError) and exc.errno in _UNREACHABLE:
            raise DeciderUnavailable(f'{where} is unreachable: {exc.strerror}') from exc
        raise DeciderError(f'connection to {where} failed: {type(exc).__name__}: {exc}'
                           ) from exc
    finally:
        connection.close()
