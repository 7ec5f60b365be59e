"""RemoteDecider against a real ministral-serve `ChatServer` (tiny test model, 127.0.0.1)."""

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from serve_support import engine, running
from support import ScriptedDecider

from ministral_node import parameters
from ministral_node.core.fallback import FallbackChain
from ministral_node.core.pipeline import DecisionPipeline
from ministral_node.decision import CommandInfo, Proposal
from ministral_node.decoding.chat_api import SCHEMA_NAME
from ministral_node.decoding.constrained import generation_schema
from ministral_node.ground.server import ServeOptions
from ministral_node.health import ERROR, OK, HealthBoard
from ministral_node.inputs.camera import Frame, LatestFrame
from ministral_node.parameters import parse_endpoint
from ministral_node.sources.base import DeciderError, DeciderUnavailable, DecisionRequest
from ministral_node.sources.factory import build_sources, configure_sources
from ministral_node.sources.onboard import OnboardDecider
from ministral_node.sources.remote import (
    NO_URL,
    InvalidOutput,
    ProbeResult,
    RemoteDecider,
    RemoteSettings,
    RequestCancelled,
)
from ministral_node.sources.system_prompt import system_prompt, user_text
from ministral_node.timing import Cancellation, Deadline, MonotonicClock, WallClock

CLOCK = MonotonicClock()
OUT_OF_ENVELOPE = {'action': 'change_altitude', 'params': {'altitude_m': 900},
                   'target': None, 'confidence': 0.9, 'rationale': 'climb as asked'}


def _gradient(height: int = 480, width: int = 640) -> np.ndarray:
    """A smooth image: survives JPEG and resizing closely enough to compare."""
    y, x = np.mgrid[0:height, 0:width]
    return np.stack([x * 255 // width, y * 255 // height, (x + y) * 255 // (width + height)],
                    axis=-1).astype(np.uint8)


def _request(text: str = 'climb to 20 m', image: np.ndarray | None = None) -> DecisionRequest:
    frame = None if image is None else Frame(image, 100.0, 'camera')
    return DecisionRequest(CommandInfo('c1', text, 100.0), frame)


def _within(seconds: float) -> Cancellation:
    return Cancellation(Deadline(CLOCK, seconds))


def _decider(server, **settings) -> RemoteDecider:
    return RemoteDecider(RemoteSettings(url=server.url, **settings))


@pytest.fixture
def server():
    with running(engine()) as chat_server:
        yield chat_server


def test_a_decision_comes_back_valid_with_the_frame_sent_as_a_downscaled_jpeg(server):
    image = _gradient()
    request = _request(image=image)
    decider = _decider(server, image_edge=320)
    proposal = decider.decide(request, _within(10.0))
    assert isinstance(proposal, Proposal)
    proposal.validate()
    received = server.last_request
    assert received.system == system_prompt()
    assert received.text == user_text(request)
    assert generation_schema(received.schema) == generation_schema()
    assert received.image.shape == (240, 320, 3)  # longest side 640 -> 320
    expected = image[::2, ::2].astype(int)
    assert np.abs(received.image.astype(int) - expected).mean() < 4.0
    info = decider.model_info()
    assert (info.name, info.variant, info.provider) == ('deterministic', 'remote', server.url)


def test_remote_and_onboard_send_one_contract_and_agree_on_a_text_command(server):
    onboard = OnboardDecider(engine().files.root, engine().options)
    onboard.load()
    request = _request('take off to 10 metres')
    remote = _decider(server).decide(request, _within(10.0))
    assert remote == onboard.decide(request, Cancellation())


def test_image_edge_zero_sends_text_only_and_says_so(server):
    _decider(server, image_edge=0).decide(_request(image=_gradient()), _within(10.0))
    assert server.last_request.image is None
    assert 'No fresh camera image' in server.last_request.text


def test_the_request_body_is_an_openai_structured_output_request():
    decider = RemoteDecider(RemoteSettings(url='http://gs:8000/v1', model='ministral-3-14b',
                                           max_tokens=300, temperature=0.3, top_p=0.9, seed=5))
    body = decider.request_body(_request(image=_gradient(60, 80)))
    system, user = body['messages']
    assert system == {'role': 'system', 'content': system_prompt()}
    image, text = user['content']
    assert image['image_url']['url'].startswith('data:image/jpeg;base64,')
    assert text == {'type': 'text', 'text': user_text(_request(image=_gradient(60, 80)))}
    assert body['response_format'] == {'type': 'json_schema', 'json_schema': {
        'name': SCHEMA_NAME, 'schema': generation_schema(), 'strict': True}}
    assert (body['model'], body['max_tokens'], body['temperature'], body['top_p'],
            body['seed']) == ('ministral-3-14b', 300, 0.3, 0.9, 5)
    unnamed = RemoteDecider(RemoteSettings(url='http://gs:8000')).request_body(_request())
    assert 'model' not in unnamed and 'seed' not in unnamed
    # Without an image the text goes as a plain string (some chat formatters drop parts).
    assert unnamed['messages'][1]['content'] == user_text(_request())


def test_a_stopped_server_is_unavailable_not_timed_out(server):
    decider = _decider(server)
    server.stop()
    cancel = _within(30.0)
    with pytest.raises(DeciderUnavailable, match='refused the connection'):
        decider.decide(_request(), cancel)
    assert not cancel.cancelled  # the refusal, not the deadline, ended it


def test_a_slow_server_is_cut_at_the_deadline_and_its_generator_freed(server):
    server.faults.delay_s = 30.0
    with pytest.raises(RequestCancelled) as caught:
        _decider(server).decide(_request(), _within(0.5))
    assert (caught.value.reason, caught.value.where) == ('deadline passed', server.url)
    # The server saw the client hang up and stopped waiting for the generator.
    _until(lambda: not server.busy)
    assert not server.busy


def _until(condition, limit_s: float = 5.0) -> None:
    """Wait for a condition another thread brings about (bounded; the assert follows)."""
    end = time.monotonic() + limit_s
    while not condition() and time.monotonic() < end:
        time.sleep(0.01)


def test_a_cancel_from_another_thread_stops_a_request_without_deadline(server):
    server.faults.delay_s = 30.0
    cancel = Cancellation()
    threading.Timer(0.2, cancel.cancel, ('operator stop',)).start()
    with pytest.raises(RequestCancelled) as caught:
        _decider(server).decide(_request(), cancel)
    assert caught.value.reason == 'operator stop'


@pytest.fixture
def never_accepting():
    """A loopback port whose accept queue is full: connecting to it hangs."""
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(0)
    fillers = [socket.socket() for _ in range(4)]
    for filler in fillers:
        filler.setblocking(False)
        filler.connect_ex(listener.getsockname())
    yield f'http://127.0.0.1:{listener.getsockname()[1]}'
    for sock in (*fillers, listener):
        sock.close()


def test_a_hanging_connect_ends_at_the_deadline_or_on_cancel(never_accepting):
    decider = RemoteDecider(RemoteSettings(url=never_accepting))
    with pytest.raises(RequestCancelled) as caught:
        decider.decide(_request(), _within(0.3))
    assert caught.value.reason == 'deadline passed'
    cancel = Cancellation()
    threading.Timer(0.2, cancel.cancel, ('node shutting down',)).start()
    with pytest.raises(RequestCancelled) as caught:
        decider.decide(_request(), cancel)
    assert caught.value.reason == 'node shutting down'


@pytest.mark.parametrize('garbage, problem, where', [
    ('content', 'not_json', ''),
    ('proposal', 'schema', ''),  # an unknown action: the whole object is wrong
])
def test_garbage_output_is_invalid_and_says_where(server, garbage, problem, where):
    server.faults.garbage = garbage
    with pytest.raises(InvalidOutput) as caught:
        _decider(server).decide(_request(), _within(4.0))
    assert (caught.value.problem, caught.value.where) == (problem, where)


def test_a_reply_that_is_not_json_is_a_decider_error(server):
    server.faults.garbage = 'body'
    with pytest.raises(DeciderError, match='remote reply is not JSON') as caught:
        _decider(server).decide(_request(), _within(4.0))
    assert type(caught.value) is DeciderError


@pytest.mark.parametrize('content, problem, where, message', [
    ('{"action":"land","params":{},"target":null,"confidence":6401,"rationale":"x"}',
     'schema', 'confidence', 'breaks the schema at confidence: 6401 is greater than the maximum'),
    ('{"action":"change_altitude","params":{"altitude_m":"high"},"target":null,'
     '"confidence":0.5,"rationale":"x"}', 'schema', 'params/altitude_m', "'high' is not of type"),
    ('{"action":"land","params":{},"target":null,"confidence":0.5,"rationale":"' + 'y' * 900
     + '"}', 'schema', 'rationale', 'a string of 900 characters is too long'),
    ('{"action":"land","params":{},"target":null,"confid', 'cut_off', '', 'cut off at max_tokens'),
])
def test_out_of_bounds_output_is_reported_precisely_in_the_attempts(fixed, content, problem,
                                                                    where, message):
    server, url = fixed
    finish = 'length' if problem == 'cut_off' else 'stop'
    server.RequestHandlerClass.replies = {'/v1/chat/completions': (200, _completion(
        {'role': 'assistant', 'content': content}, finish))}
    decider = RemoteDecider(RemoteSettings(url=url))
    with pytest.raises(InvalidOutput) as caught:
        decider.decide(_request(), _within(4.0))
    assert (caught.value.problem, caught.value.where, caught.value.finish) == (
        problem, where, finish)
    result = FallbackChain([decider, ScriptedDecider('onboard')], CLOCK).decide(
        _request(), Deadline(CLOCK, 10.0))
    remote = result.attempts[0]
    assert (remote.source, remote.outcome) == ('remote', 'invalid')
    assert message in remote.detail and len(remote.detail) < 300


def test_an_out_of_envelope_reply_parses_and_the_safety_envelope_clamps_it(server):
    server.faults.response = json.dumps(OUT_OF_ENVELOPE)
    decider = _decider(server)
    assert decider.decide(_request(), _within(4.0)).params == {'altitude_m': 900}
    pipeline = DecisionPipeline(FallbackChain([decider], CLOCK), LatestFrame(), CLOCK,
                                WallClock())
    decision = pipeline.decide('climb to 900 m')
    assert decision.source == 'remote'
    assert decision.model.to_dict() == {'name': 'deterministic', 'variant': 'remote',
                                          'provider': server.url}
    assert decision.params == {'altitude_m': 120.0}
    assert decision.safety.status == 'modified'
    assert decision.safety.changes[0].requested == 900


@pytest.mark.parametrize('status, kind, message', [
    (500, DeciderError, 'answered HTTP 500: injected HTTP 500'),
    (429, DeciderError, 'answered HTTP 429'),
    (503, DeciderUnavailable, r'is unavailable \(HTTP 503'),
])
def test_http_errors_carry_status_and_message(server, status, kind, message):
    server.faults.status = status
    with pytest.raises(kind, match=message) as caught:
        _decider(server).decide(_request(), _within(4.0))
    assert type(caught.value) is kind


def test_bad_requests_come_back_as_http_400_and_404_with_the_servers_reason(server):
    with pytest.raises(DeciderError, match='HTTP 400: max_new_tokens 20 is too small'):
        _decider(server, max_tokens=20).decide(_request(), _within(4.0))
    with pytest.raises(DeciderError, match="HTTP 404: model 'ministral-3-14b' is not served"):
        _decider(server, model='ministral-3-14b').decide(_request(), _within(4.0))


def test_the_api_key_goes_as_a_bearer_token_from_the_named_variable(monkeypatch):
    secret = 'sk-test-0123456789'
    with running(engine(), ServeOptions(api_key=secret)) as server:
        decider = _decider(server, api_key_env='GS_TEST_KEY')
        monkeypatch.delenv('GS_TEST_KEY', raising=False)
        with pytest.raises(DeciderError, match=r'HTTP 401.*\$GS_TEST_KEY \(not set\)'):
            decider.decide(_request(), _within(4.0))
        assert not decider.probe().ok
        monkeypatch.setenv('GS_TEST_KEY', 'sk-wrong')
        with pytest.raises(DeciderError, match=r'\$GS_TEST_KEY \(set\)') as caught:
            decider.decide(_request(), _within(4.0))
        assert 'sk-wrong' not in str(caught.value)
        monkeypatch.setenv('GS_TEST_KEY', 'sk-bad\r\nX-Injected: 1')
        with pytest.raises(DeciderError, match='does not hold a usable API key') as caught:
            decider.decide(_request(), _within(4.0))
        assert 'sk-bad' not in str(caught.value)
        monkeypatch.setenv('GS_TEST_KEY', secret)
        decider.decide(_request(), _within(4.0)).validate()
        assert decider.probe().ok


def test_probe_reports_up_down_and_a_model_that_is_not_served(server):
    result = _decider(server).probe()
    assert result.ok and result.models == ('deterministic',)
    assert 'serves deterministic' in result.reason
    missing = _decider(server, model='ministral-3-14b').probe()
    assert not missing.ok and "does not serve 'ministral-3-14b'" in missing.reason
    server.stop()
    down = _decider(server).probe()
    assert not down.ok and 'refused the connection' in down.reason
    assert RemoteDecider().probe() == ProbeResult(False, NO_URL)


def test_probe_fails_for_a_server_without_a_model():
    with running(None) as server:
        assert _decider(server).probe().reason.endswith('serves no model')
        with pytest.raises(DeciderUnavailable, match='no model loaded'):
            _decider(server).decide(_request(), _within(4.0))


class _Fixed(BaseHTTPRequestHandler):
    """A minimal non-ministral server: answers every request with the class's reply."""

    replies: dict[str, tuple[int, bytes]] = {}

    def _reply(self) -> None:
        status, body = self.replies.get(self.path, (404, b'{"detail":"Not Found"}'))
        length = int(self.headers.get('Content-Length') or 0)
        self.rfile.read(length)
        self.send_response(status)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _reply  # noqa: N815 - the names http.server calls

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def fixed():
    server = ThreadingHTTPServer(('127.0.0.1', 0), _Fixed)
    thread = threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.05})
    thread.start()
    yield server, f'http://127.0.0.1:{server.server_address[1]}'
    server.shutdown()
    thread.join()
    server.server_close()


def _completion(message: dict, finish: str = 'stop') -> bytes:
    return json.dumps({'choices': [{'index': 0, 'message': message,
                                    'finish_reason': finish}]}).encode()


@pytest.mark.parametrize('body, message', [
    (b'{"id": "x"}', 'has no choices'),
    (b'[1, 2]', 'has no choices'),
    (b'{"choices": [{"index": 0}]}', 'no message in its first choice'),
    (_completion({'role': 'assistant', 'content': None}), 'has no content'),
    (_completion({'role': 'assistant', 'content': None, 'refusal': 'I cannot fly'}),
     'remote model refused: I cannot fly'),
])
def test_replies_missing_what_a_completion_needs_are_errors(fixed, body, message):
    server, url = fixed
    server.RequestHandlerClass.replies = {'/v1/chat/completions': (200, body)}
    with pytest.raises(DeciderError, match=message):
        RemoteDecider(RemoteSettings(url=url)).decide(_request(), _within(4.0))


def test_content_parts_and_a_path_prefix_are_understood(fixed):
    server, url = fixed
    parts = [{'type': 'text', 'text': json.dumps(OUT_OF_ENVELOPE)[:20]},
             {'type': 'text', 'text': json.dumps(OUT_OF_ENVELOPE)[20:]}]
    server.RequestHandlerClass.replies = {
        '/proxy/v1/chat/completions': (200, _completion({'content': parts})),
        '/proxy/health': (200, b'{"status":"ok"}')}
    decider = RemoteDecider(RemoteSettings(url=url + '/proxy/v1/'))
    assert decider.decide(_request(), _within(4.0)).action == 'change_altitude'
    probe = decider.probe()  # no /v1/models here: /health answers
    assert probe.ok and probe.reason.endswith('is healthy')


def test_an_oversized_reply_is_refused(fixed, monkeypatch):
    server, url = fixed
    server.RequestHandlerClass.replies = {'/v1/chat/completions': (200, b'x' * 300_000)}
    monkeypatch.setattr('ministral_node.sources.remote.MAX_REPLY_BYTES', 100_000)
    with pytest.raises(DeciderError, match='larger than 100000 bytes'):
        RemoteDecider(RemoteSettings(url=url)).decide(_request(), _within(4.0))


def test_without_a_url_the_source_is_unavailable_and_has_no_model():
    decider = RemoteDecider()
    with pytest.raises(DeciderUnavailable, match=NO_URL):
        decider.load()
    with pytest.raises(DeciderUnavailable, match=NO_URL):
        decider.decide(_request(), Cancellation())
    assert decider.model_info() is None


def test_the_health_probe_runs_while_loaded_and_stops_on_close(server):
    board = HealthBoard(CLOCK)
    decider = RemoteDecider(RemoteSettings(url=server.url, health_period_s=0.05), board)
    decider.load()
    try:
        _until(lambda: board.level('remote') == OK)
        assert board.snapshot_of('remote').message.startswith('endpoint ')
        assert board.level('remote') == OK
        server.stop()
        _until(lambda: 'refused the connection' in board.snapshot_of('remote').message)
        assert board.level('remote') == ERROR
        assert 'refused the connection' in board.snapshot_of('remote').message
    finally:
        decider.close()
    assert decider._monitor is None


def test_a_stopped_remote_hands_over_to_the_next_source_in_the_chain(server):
    decider = _decider(server)
    server.stop()
    onboard = ScriptedDecider('onboard')
    chain = FallbackChain([decider, onboard], CLOCK, timeouts_s={'remote': 30.0})
    result = chain.decide(_request(), Deadline(CLOCK, 60.0))
    assert result.source == 'onboard' and onboard.requests
    assert [(a.source, a.outcome) for a in result.attempts] == [
        ('remote', 'unavailable'), ('onboard', 'ok')]
    assert 'refused the connection' in result.attempts[0].detail


def test_a_slow_remote_times_out_within_its_budget_and_the_next_source_decides(server):
    server.faults.delay_s = 30.0
    chain = FallbackChain([_decider(server), ScriptedDecider('onboard')], CLOCK,
                          timeouts_s={'remote': 0.3})
    result = chain.decide(_request(), Deadline(CLOCK, 60.0))
    assert [(a.source, a.outcome) for a in result.attempts] == [
        ('remote', 'timeout'), ('onboard', 'ok')]


@pytest.mark.parametrize('url, expected', [
    ('http://10.0.0.2:8000', ('http', '10.0.0.2', 8000, '')),
    ('http://10.0.0.2:8000/v1', ('http', '10.0.0.2', 8000, '')),
    ('http://gs.local:8000/v1/', ('http', 'gs.local', 8000, '')),
    ('https://api.mistral.ai/v1', ('https', 'api.mistral.ai', 443, '')),
    ('http://gs/llm/v1', ('http', 'gs', 80, '/llm')),
    ('http://[fd00::2]:8080', ('http', 'fd00::2', 8080, '')),
])
def test_endpoints_parse_with_or_without_v1(url, expected):
    endpoint = parse_endpoint(url)
    assert (endpoint.scheme, endpoint.host, endpoint.port, endpoint.base_path) == expected
    assert endpoint.path('/v1/models') == expected[3] + '/v1/models'


@pytest.mark.parametrize('url, message', [
    ('ftp://gs:21', 'scheme must be http or https'),
    ('gs:8000', 'scheme must be http or https'),
    ('http://', 'names no host'),
    ('http://user:pw@gs:8000', 'must not carry credentials'),
    ('http://gs:8000/v1?key=abc', 'must not carry credentials'),
    ('http://gs:port', 'is not a URL'),
])
def test_unusable_urls_are_refused_as_parameters(url, message):
    with pytest.raises(ValueError, match=message):
        parse_endpoint(url)
    with pytest.raises(parameters.ParameterError, match=f'remote_url: .*{message}'):
        parameters.with_changes(parameters.defaults(), {'remote_url': url})


def test_sources_build_the_remote_degraded_without_url_and_reconfigure_it_live(server):
    values = parameters.with_changes(parameters.defaults(), {
        'decision_sources': ['remote'], 'remote_health_period_s': 0.0})
    board = HealthBoard(CLOCK)
    (decider,) = build_sources(values, board)
    assert isinstance(decider, RemoteDecider)
    assert board.level('remote') == ERROR and NO_URL in board.snapshot_of('remote').message
    changed = parameters.with_changes(values, {'remote_url': server.url + '/v1',
                                               'remote_image_edge': 0, 'max_new_tokens': 256})
    configure_sources([decider], changed)
    decider.decide(_request(image=_gradient()), _within(10.0)).validate()
    assert server.last_request.image is None
    assert server.last_request.generation.max_new_tokens == 256
    decider.close()


def test_shipped_defaults_disable_the_remote_source():
    settings = RemoteSettings.from_params(parameters.defaults())
    assert settings.url == '' and settings.endpoint() is None
    assert settings.api_key_env == 'MINISTRAL_REMOTE_API_KEY'
    assert (settings.max_tokens, settings.temperature, settings.seed) == (
        parameters.SPECS['max_new_tokens'].default, 0.0, None)
    assert settings.dialect == 'auto'
    chosen = RemoteSettings.from_params(parameters.with_changes(
        parameters.defaults(), {'remote_dialect': 'llama_cpp'}))
    assert chosen.dialect == 'llama_cpp'
    with pytest.raises(parameters.ParameterError, match='remote_dialect'):
        parameters.with_changes(parameters.defaults(), {'remote_dialect': 'gpt'})


class _NoLogprobs(BaseHTTPRequestHandler):
    """A server that refuses the logprobs field with 422 (as strict APIs do)."""

    bodies: list[dict] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get('Content-Length') or 0)))
        type(self).bodies.append(body)
        status, reply = 200, _completion({'role': 'assistant',
                                          'content': json.dumps(OUT_OF_ENVELOPE)})
        if 'logprobs' in body:
            status, reply = 422, b'{"detail": "Extra inputs are not permitted: logprobs"}'
        self.send_response(status)
        self.send_header('Content-Length', str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args) -> None:
        pass


def test_logprobs_are_asked_for_and_dropped_once_a_server_refuses_them():
    server = ThreadingHTTPServer(('127.0.0.1', 0), _NoLogprobs)
    thread = threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.05})
    thread.start()
    try:
        decider = RemoteDecider(RemoteSettings(url=f'http://127.0.0.1:{server.server_address[1]}',
                                               dialect='openai'))
        assert decider.request_body(_request())['logprobs'] is True
        proposal = decider.decide(_request(), _within(10.0))
        assert proposal.confidence_detail.method == 'model_reported'
        decider.decide(_request(), _within(10.0))
        assert ['logprobs' in body for body in _NoLogprobs.bodies] == [True, False, False]
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def test_ministral_serve_returns_logprobs_and_the_remote_confidence_is_measured(server):
    proposal = _decider(server).decide(_request('take off to 10 metres'), _within(10.0))
    assert proposal.confidence_detail.method == 'token_logprobs'
    assert proposal.confidence == proposal.confidence_detail.overall
