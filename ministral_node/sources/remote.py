"""`RemoteDecider`: the ground station's larger model, over an OpenAI-compatible HTTP API.

    decider = RemoteDecider.from_params(values, health)  # parameters.py, `# Remote model`
    decider.load()                       # DeciderUnavailable without remote_url; starts the probe
    proposal = decider.decide(request, cancel)   # schema-valid Proposal or DeciderError
    decider.probe()                      # ProbeResult: is the endpoint up, which dialect?
    decider.close()                      # stops the probe

It speaks what ministral-serve, vLLM, llama.cpp's server, llama-cpp-python, TGI, Ollama and
Mistral's API speak: POST `/v1/chat/completions` with the onboard model's system prompt and user
text, the camera frame as a JPEG data URL, and the generation schema in the form the server's
dialect takes (`sources.dialects`; `remote_dialect: auto` detects it from `GET /v1/models`, and
again after an error). A server that refuses images gets the request again without the frame,
inside the same deadline, and is remembered as text-only (the health board says so).
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
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from ministral_node.decision import ConfidenceDetail, DecisionError, ModelInfo, Proposal, shorten
from ministral_node.decoding.chat_api import (
    CHAT_PATH,
    HEALTH_PATH,
    MODELS_PATH,
    error_message,
)
from ministral_node.decoding.confidence import MODEL_REPORTED, measured
from ministral_node.decoding.constrained import generation_schema
from ministral_node.decoding.gbnf import decision_grammar
from ministral_node.health import ERROR, OK, WARN, HealthBoard
from ministral_node.inputs.image_conversion import jpeg_data_url
from ministral_node.parameters import Endpoint, parse_endpoint
from ministral_node.sources import dialects
from ministral_node.sources.base import DeciderError, DeciderUnavailable, DecisionRequest
from ministral_node.sources.dialects import AUTO, GRAMMAR, Detection, Dialect
from ministral_node.sources.system_prompt import system_prompt, user_text
from ministral_node.timing import Cancellation, Cancelled, Deadline, MonotonicClock, Watcher

log = logging.getLogger(__name__)

DEFAULT_API_KEY_ENV = 'MINISTRAL_REMOTE_API_KEY'
NO_URL = 'no remote_url configured'
# No model listing (404; 405/501 from servers that only take POST): nothing to learn there.
NO_MODEL_LISTING = frozenset({404, 405, 501})
INFO_PATH = '/info'  # TGI's server description
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
    max_tokens: int = 1024  # parameters: max_new_tokens
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int | None = None
    dialect: str = AUTO

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
            seed=None if seed < 0 else seed,
            dialect=str(values.get('remote_dialect', base.dialect)))

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
    dialect: str = ''
    text_only: str = ''  # why the endpoint takes no images ('' when it does)


class InvalidOutput(DecisionError):
    """The remote model answered, but its output is not a valid proposal.

    `problem` is 'not_json', 'cut_off' (not JSON, and the server stopped at max_tokens) or
    'schema'; `where` is the JSON path of a schema violation ('' otherwise)."""

    def __init__(self, message: str, problem: str, where: str = '',
                 finish: str | None = None, size: int = 0) -> None:
        super().__init__(message)
        self.problem = problem
        self.where = where
        self.finish = finish
        self.size = size


@dataclass
class _EndpointState:
    """What the decider learned about the current endpoint (forgotten when it changes)."""

    detection: Detection | None = None
    text_only: str = ''
    served_model: str = ''
    models: tuple[str, ...] = field(default_factory=tuple)


@lru_cache(maxsize=8)
def _grammar(max_tokens: int) -> str:
    try:
        return decision_grammar(max_tokens).text
    except ValueError as exc:
        raise DeciderError(f'max_new_tokens {max_tokens} is too small for the decision '
                           f'grammar: {exc}') from exc


class RemoteDecider:
    """Decides with a remote OpenAI-compatible model, constrained to the proposal schema."""

    source = 'remote'

    def __init__(self, settings: RemoteSettings | None = None,
                 health: HealthBoard | None = None) -> None:
        self.health = health
        self.last_probe: ProbeResult | None = None
        self._state = (RemoteSettings(), None)
        self._known = _EndpointState()
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

    @property
    def text_only(self) -> str:
        """Why the endpoint is used without images ('' while it takes them)."""
        return self._known.text_only

    @property
    def detection(self) -> Detection | None:
        """The dialect detected for the endpoint (None before the first contact)."""
        return self._known.detection

    def configure(self, values: Mapping[str, Any]) -> None:
        """Apply live parameter changes (URL, model, key variable, image, sampling, probe)."""
        self.configure_settings(RemoteSettings.from_params(values))

    def configure_settings(self, settings: RemoteSettings) -> None:
        """Use `settings` from the next request on; ValueError if the URL or dialect is
        unusable."""
        endpoint = settings.endpoint()
        if settings.dialect != AUTO:
            dialects.dialect(settings.dialect)
        old = self.settings
        if (endpoint, settings.model, settings.dialect) != (self.endpoint, old.model,
                                                            old.dialect):
            self._known = _EndpointState()
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
        return ModelInfo(settings.model or self._known.served_model or 'unknown', 'remote',
                         endpoint.origin)

    # Dialect -----------------------------------------------------------------------------------

    def dialect(self) -> Dialect:
        """The configured dialect, else the detected one, else plain OpenAI."""
        if self.settings.dialect != AUTO:
            return dialects.dialect(self.settings.dialect)
        known = self._known.detection
        return known.dialect if known is not None else dialects.DIALECTS['openai']

    def _learn(self, settings: RemoteSettings, endpoint: Endpoint, headers: dict[str, str],
               cancel: Cancellation) -> None:
        """Fetch /v1/models (and TGI's /info where there is none) once per endpoint: the
        dialect and the served models."""
        known = self._known
        if known.detection is not None:
            return
        if settings.dialect != AUTO and settings.model:
            return  # nothing to learn
        reply = exchange(endpoint, 'GET', endpoint.path(MODELS_PATH), None, headers, cancel)
        info = None
        if reply.status in NO_MODEL_LISTING and settings.dialect == AUTO:
            info_reply = exchange(endpoint, 'GET', endpoint.path(INFO_PATH), None, headers,
                                  cancel)
            info = info_reply.body if info_reply.status == 200 else None
        elif reply.status != 200 and reply.status not in NO_MODEL_LISTING:
            raise self._http_error(reply.status, reply.body, settings, endpoint)
        self._remember(dialects.detect(reply.body if reply.status == 200 else None,
                                       reply.headers, info))

    def _remember(self, detection: Detection) -> None:
        known = self._known
        if known.models and detection.models and known.models != detection.models:
            known.text_only = ''  # another model behind the endpoint: try images again
        changed = known.detection is None or known.detection.dialect != detection.dialect
        known.detection = detection
        known.models = detection.models
        if len(detection.models) == 1 and not known.served_model:
            known.served_model = detection.models[0]
        if self.settings.dialect == AUTO and changed:
            log.info('remote endpoint %s speaks %s (%s)', self.endpoint and self.endpoint.origin,
                     detection.dialect.name, detection.evidence)

    def _model(self, settings: RemoteSettings, dialect: Dialect) -> str:
        """The model to name: configured, else the only one served; '' if none is known."""
        if settings.model:
            return settings.model
        models = self._known.models
        if len(models) == 1:
            return models[0]
        if dialect.requires_model:
            listed = f'it lists {", ".join(models[:5])}' if models else 'it lists none'
            raise DeciderError(f'{dialect.server} needs a model name: set remote_model '
                               f'({listed})')
        return ''

    # Deciding ----------------------------------------------------------------------------------

    def request_body(self, request: DecisionRequest, settings: RemoteSettings | None = None,
                     dialect: Dialect | None = None) -> dict:
        """The chat-completions request for `request` in `dialect` (default: the current one):
        the onboard prompt, the frame when one goes, the schema or grammar."""
        settings = settings or self.settings
        dialect = dialect or self.dialect()
        if settings.image_edge <= 0 or self._known.text_only:
            request = replace(request, frame=None)  # the text then says there is no image
        image = None if request.frame is None else jpeg_data_url(
            request.frame.image, settings.image_edge, settings.jpeg_quality)
        body: dict[str, Any] = {
            'messages': [{'role': 'system', 'content': system_prompt()},
                         {'role': 'user',
                          'content': dialects.user_content(user_text(request), image)}],
            'max_tokens': settings.max_tokens,
            'temperature': settings.temperature,
            'top_p': settings.top_p,
        }
        if dialect.structured == GRAMMAR:
            body['grammar'] = _grammar(settings.max_tokens)
        else:
            body['response_format'] = dialect.response_format(generation_schema())
        model = self._model(settings, dialect)
        if model:
            body['model'] = model
        if settings.seed is not None:
            body[dialect.seed_field] = settings.seed
        return with_logprobs(body) if self.logprobs else body

    def decide(self, request: DecisionRequest, cancel: Cancellation) -> Proposal:
        """A schema-valid proposal from the remote model, or DeciderError saying why."""
        settings, endpoint = self._state
        if endpoint is None:
            raise DeciderUnavailable(NO_URL)
        cancel.check()
        headers = self._headers(settings)
        try:
            self._learn(settings, endpoint, headers, cancel)
            reply = self._post(request, settings, endpoint, headers, cancel)
        except DeciderError:
            self._forget_dialect()
            raise
        return self._proposal(reply)

    def _post(self, request: DecisionRequest, settings: RemoteSettings, endpoint: Endpoint,
              headers: dict[str, str], cancel: Cancellation) -> Reply:
        """The chat request; once more without the frame if the server refuses images."""
        with_image = request.frame is not None and settings.image_edge > 0 and \
            not self._known.text_only
        reply = self._chat(request, settings, endpoint, headers, cancel)
        if reply.status != 200 and with_image:
            message = error_message(reply.body)
            if dialects.refuses_images(reply.status, message):
                self._known.text_only = (f'the server refused an image (HTTP {reply.status}: '
                                         f'{shorten(message, 120)})')
                log.warning('remote endpoint %s takes no images; sending text only from now '
                            'on: %s', endpoint.origin, message)
                self._report()
                reply = self._chat(request, settings, endpoint, headers, cancel)
        if reply.status != 200:
            raise self._http_error(reply.status, reply.body, settings, endpoint)
        return reply

    def _chat(self, request: DecisionRequest, settings: RemoteSettings, endpoint: Endpoint,
              headers: dict[str, str], cancel: Cancellation) -> Reply:
        body = json.dumps(self.request_body(request, settings), ensure_ascii=False,
                          separators=(',', ':')).encode()
        headers = {**headers, 'Content-Type': 'application/json'}
        reply = exchange(endpoint, 'POST', endpoint.path(CHAT_PATH), body, headers, cancel)
        if self.logprobs and refuses_logprobs(reply.status, reply.body):
            self.logprobs = False
            log.warning('remote model at %s refuses logprobs: confidence is what it writes',
                        endpoint.origin)
            body = json.dumps(self.request_body(request, settings), ensure_ascii=False,
                              separators=(',', ':')).encode()
            reply = exchange(endpoint, 'POST', endpoint.path(CHAT_PATH), body, headers, cancel)
        return reply

    def _proposal(self, reply: Reply) -> Proposal:
        data = reply.body
        try:
            parsed = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise DeciderError(f'remote reply is not JSON ({len(data)} bytes): '
                               f'{shorten(data[:120].decode("utf-8", "replace"), 120)!r}'
                               ) from exc
        content, finish = _content(parsed)
        if isinstance(parsed.get('model'), str) and not self.settings.model:
            self._known.served_model = parsed['model']
        return reply_confidence(parse_output(content, finish), parsed, content)

    def _forget_dialect(self) -> None:
        """After an error, detect the dialect again on the next request (auto only)."""
        if self.settings.dialect == AUTO:
            self._known.detection = None

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
        """GET /v1/models (or /health where there is none) within `timeout_s`: is it up, does
        it serve the configured model, which dialect does it speak?"""
        settings, endpoint = self._state
        if endpoint is None:
            return ProbeResult(False, NO_URL)
        clock = MonotonicClock()
        began = clock.now()
        cancel = Cancellation(Deadline(clock, timeout_s))
        try:
            headers = self._headers(settings)
            reply = exchange(endpoint, 'GET', endpoint.path(MODELS_PATH), None, headers, cancel)
            models = None
            if reply.status == 404:
                reply = exchange(endpoint, 'GET', endpoint.path(HEALTH_PATH), None, headers,
                                 cancel)
            elif reply.status == 200:
                models = dialects.model_ids(reply.body)
                self._remember(dialects.detect(reply.body, reply.headers))
        except (DeciderError, Cancelled) as exc:
            return ProbeResult(False, str(exc) or 'no answer in time', clock.now() - began)
        latency = clock.now() - began
        found = self.dialect().name
        text_only = self._known.text_only

        def result(ok: bool, reason: str, listed: tuple[str, ...] = ()) -> ProbeResult:
            return ProbeResult(ok, reason, latency, listed, found, text_only)

        if reply.status != 200:
            return result(False, str(self._http_error(reply.status, reply.body, settings,
                                                      endpoint)))
        if models is None:
            return result(True, f'{endpoint.origin} is healthy')
        if not models:
            return result(False, f'{endpoint.origin} serves no model')
        if settings.model and settings.model not in models:
            return result(False, f'{endpoint.origin} does not serve {settings.model!r} '
                                 f'(it serves {", ".join(models[:5])})', models)
        if not self._known.served_model and not settings.model:
            self._known.served_model = models[0]
        return result(True, f'{endpoint.origin} serves {", ".join(models[:5])}', models)

    def check_health(self) -> ProbeResult:
        """Probe once and record the result in the health board (component `remote`)."""
        result = self.probe(min(PROBE_TIMEOUT_S, max(0.1, self.settings.health_period_s)))
        self.last_probe = result
        self._report(result)
        if not result.ok:
            log.debug('remote endpoint check failed: %s', result.reason)
        return result

    def _report(self, result: ProbeResult | None = None) -> None:
        """Put the last probe and what is known of the endpoint on the health board."""
        result = result or self.last_probe
        if self.health is None:
            return
        text_only = self._known.text_only
        if result is None:
            if text_only:
                self.health.set(self.source, WARN, f'text only: {text_only}',
                                dialect=self.dialect().name, images='refused')
            return
        level = (WARN if text_only else OK) if result.ok else ERROR
        message = ('endpoint ' if result.ok else 'endpoint check failed: ') + result.reason
        if text_only:
            message += f'; text only: {text_only}'
        self.health.set(self.source, level, message, probe_ms=f'{result.latency_s * 1000:.0f}',
                        dialect=self.dialect().name,
                        images='refused' if text_only else 'sent')

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


_SCHEMA_PREFIX = 'proposal does not fit the schema: '
_NOT_JSON = 'proposal is not valid JSON'


def parse_output(content: str, finish: str | None = None) -> Proposal:
    """The proposal in a model's output, or `InvalidOutput` saying exactly what is wrong:
    not JSON, cut off at max_tokens, or which field breaks which bound of the schema."""
    size = len(content.encode())
    try:
        return Proposal.from_json(content)
    except DecisionError as exc:
        text = str(exc)
        if text.startswith(_NOT_JSON):
            if finish == 'length':
                raise InvalidOutput(f'remote output was cut off at max_tokens after {size} '
                                    f'bytes ({text})', 'cut_off', '', finish, size) from exc
            raise InvalidOutput(f'remote output is not a proposal: {shorten(text, 160)} in '
                                f'{shorten(content, 60)!r}', 'not_json', '', finish, size
                                ) from exc
        detail = text.removeprefix(_SCHEMA_PREFIX)
        where, _, problem = detail.partition(': ') if ': ' in detail else ('', '', detail)
        where = '' if where == '(root)' else where
        if problem.endswith(' is too long') and len(problem) > 80:
            problem = f'a string of {len(problem) - 14} characters is too long'
        raise InvalidOutput(f'remote output breaks the schema at {where or "(root)"}: '
                            f'{shorten(problem, 160)}', 'schema', where, finish, size) from exc


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


class RequestCancelled(Cancelled):
    """A request stopped by its cancellation: `reason` ('deadline passed', or what the
    canceller said), how long it had waited and for which server."""

    def __init__(self, reason: str, waited_s: float, where: str) -> None:
        super().__init__(f'{reason} after {waited_s:.2f} s waiting for {where}')
        self.reason = reason
        self.waited_s = waited_s
        self.where = where


@dataclass(frozen=True)
class Reply:
    """An HTTP reply: status, body, and headers (names in lower case)."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def exchange(endpoint: Endpoint, method: str, path: str, body: bytes | None,
             headers: Mapping[str, str], cancel: Cancellation,
             limit: int | None = None) -> Reply:
    """One HTTP request within `cancel`'s deadline.

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
            return Reply(response.status, b''.join(chunks),
                         {name.lower(): value for name, value in response.getheaders()})
    except Cancelled as exc:
        raise RequestCancelled(str(exc) or cancel.reason, time.monotonic() - began, where
                               ) from None
    except DeciderError:
        raise
    except (OSError, http.client.HTTPException) as exc:
        waited = time.monotonic() - began
        if cancel.cancelled or isinstance(exc, TimeoutError):
            raise RequestCancelled(cancel.reason or 'no reply in time', waited, where) from exc
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
