"""Server dialects: detection, the request form each gets, images refused, models required."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from serve_support import engine, running

from ministral_node.core.fallback import FallbackChain
from ministral_node.core.pipeline import DecisionPipeline
from ministral_node.decision import CommandInfo
from ministral_node.decoding.gbnf import decision_grammar
from ministral_node.health import OK, WARN, HealthBoard
from ministral_node.inputs.camera import Frame, LatestFrame
from ministral_node.sources import dialects
from ministral_node.sources.base import DeciderError, DecisionRequest
from ministral_node.sources.remote import RemoteDecider, RemoteSettings
from ministral_node.sources.system_prompt import user_text
from ministral_node.timing import Cancellation, Deadline, MonotonicClock, WallClock

CLOCK = MonotonicClock()
VALID = json.dumps({'action': 'land', 'params': {}, 'target': None, 'confidence': 0.9,
                    'rationale': 'asked to land'})
LLAMA_CPP_NO_IMAGES = ('image input is not supported - hint: if this is unexpected, you may '
                       'need to provide the mmproj')


def _request(image: bool = False) -> DecisionRequest:
    frame = Frame(np.full((48, 64, 3), 90, np.uint8), 100.0, 'camera') if image else None
    return DecisionRequest(CommandInfo('c1', 'land here', 100.0), frame)


def _within(seconds: float = 10.0) -> Cancellation:
    return Cancellation(Deadline(CLOCK, seconds))


@pytest.fixture(scope='module')
def server():
    with running(engine()) as chat_server:
        yield chat_server


@pytest.mark.parametrize('name', list(dialects.DIALECTS))
def test_every_dialect_decides_against_ministral_serve(server, name):
    decider = RemoteDecider(RemoteSettings(url=server.url, dialect=name, seed=4,
                                           image_edge=64))
    decider.decide(_request(image=True), _within()).validate()
    received = server.last_request
    if dialects.DIALECTS[name].structured == dialects.GRAMMAR:
        assert received.grammar == decision_grammar(decider.settings.max_tokens).text
        assert received.schema is None
    else:
        assert received.schema is not None and received.grammar is None
    assert received.image is not None
    assert received.model == 'deterministic'  # the only model /v1/models lists
    assert received.generation.seed == 4


@pytest.mark.parametrize('name, structured', [
    ('openai', {'response_format': {'type': 'json_schema'}}),
    ('llama_cpp_python', {'grammar': str}),
    ('tgi', {'response_format': {'type': 'json'}}),
    ('mistral', {'response_format': {'type': 'json_schema'}, 'random_seed': 3}),
])
def test_each_dialect_puts_the_schema_where_its_server_reads_it(name, structured):
    decider = RemoteDecider(RemoteSettings(url='http://gs:8000', dialect=name, model='m',
                                           seed=3))
    body = decider.request_body(_request())
    for key, expected in structured.items():
        if isinstance(expected, dict):
            assert body[key]['type'] == expected['type']
        elif expected is str:
            assert isinstance(body[key], str)
        else:
            assert body[key] == expected
    assert ('seed' in body) is (name != 'mistral')
    assert body['messages'][1]['content'] == user_text(_request())


@pytest.mark.parametrize('listing, headers, expected', [
    ({'object': 'list', 'data': [{'id': 'm.gguf', 'object': 'model', 'owned_by': 'llamacpp',
                                  'meta': {}}], 'models': []}, {}, 'llama_cpp'),
    ({'object': 'list', 'data': [{'id': 'm.gguf', 'object': 'model'}]}, {'Server': 'llama.cpp'},
     'llama_cpp'),
    ({'object': 'list', 'data': [{'id': 'm', 'object': 'model', 'owned_by': 'me',
                                  'permissions': []}]}, {'Server': 'uvicorn'},
     'llama_cpp_python'),
    ({'object': 'list', 'data': [{'id': 'q', 'object': 'model', 'owned_by': 'vllm',
                                  'max_model_len': 4096}]}, {'server': 'uvicorn'}, 'vllm'),
    ({'object': 'list', 'data': [{'id': 'llava:latest', 'object': 'model',
                                  'owned_by': 'library'}]}, {}, 'ollama'),
    ({'object': 'list', 'data': [{'id': 'ministral-8b-latest', 'object': 'model',
                                  'owned_by': 'mistralai', 'capabilities': {}}]}, {}, 'mistral'),
    ({'object': 'list', 'data': [{'id': 'org/m', 'object': 'model', 'owned_by': 'org/m'}]},
     {}, 'tgi'),
    ({'object': 'list', 'data': [{'id': 'deterministic', 'object': 'model',
                                  'owned_by': 'ministral_node'}]}, {}, 'openai'),
])
def test_detection_reads_the_model_listing_and_headers(listing, headers, expected):
    found = dialects.detect(json.dumps(listing).encode(), headers)
    assert found.dialect.name == expected
    assert found.models == tuple(item['id'] for item in listing['data'])


def test_a_server_without_model_listing_is_tgi_by_its_info_or_plain_openai():
    info = json.dumps({'model_id': 'org/m', 'max_total_tokens': 4096}).encode()
    assert dialects.detect(None, {}, info).dialect.name == 'tgi'
    assert dialects.detect(None, {}).dialect.name == 'openai'


@pytest.mark.parametrize('status, message, refused', [
    (500, LLAMA_CPP_NO_IMAGES, True),
    (400, 'The model does not support image input', True),
    (400, 'Model qwen is not a multimodal model', True),
    (500, 'failed to load model', False),
    (400, 'max_tokens must be at least 1', False),
])
def test_image_refusals_are_recognised(status, message, refused):
    assert dialects.refuses_images(status, message) is refused


class _TextOnlyServer(BaseHTTPRequestHandler):
    """llama-server without a vision projector, as it answers (see test/data recordings)."""

    models = [{'id': 'tiny.gguf', 'object': 'model', 'owned_by': 'llamacpp', 'meta': {}}]
    seen: list[dict] = []
    fail_next = 0

    def _send(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self.seen.append({'path': self.path})
        self._send(200, {'object': 'list', 'data': self.models, 'models': []})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers['Content-Length'])))
        self.seen.append({'path': self.path, 'body': body})
        content = body['messages'][-1]['content']
        if type(self).fail_next:
            type(self).fail_next -= 1
            self._send(500, {'error': {'code': 500, 'message': 'slot unavailable',
                                       'type': 'server_error'}})
        elif isinstance(content, list) and any(p['type'] == 'image_url' for p in content):
            self._send(500, {'error': {'code': 500, 'message': LLAMA_CPP_NO_IMAGES,
                                       'type': 'server_error'}})
        else:
            self._send(200, {'choices': [{'index': 0, 'finish_reason': 'stop', 'message': {
                'role': 'assistant', 'content': VALID}}], 'model': 'tiny.gguf'})

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def text_only():
    _TextOnlyServer.seen = []
    _TextOnlyServer.fail_next = 0
    httpd = ThreadingHTTPServer(('127.0.0.1', 0), _TextOnlyServer)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={'poll_interval': 0.05})
    thread.start()
    yield f'http://127.0.0.1:{httpd.server_address[1]}'
    httpd.shutdown()
    thread.join()
    httpd.server_close()


def _posts() -> list[dict]:
    return [s['body'] for s in _TextOnlyServer.seen if 'body' in s]


def _has_image(body: dict) -> bool:
    return isinstance(body['messages'][-1]['content'], list)


def test_a_server_refusing_images_gets_the_text_alone_and_is_remembered_text_only(text_only):
    board = HealthBoard(CLOCK)
    decider = RemoteDecider(RemoteSettings(url=text_only, health_period_s=0.0), board)
    pipeline = DecisionPipeline(FallbackChain([decider], CLOCK), LatestFrame(), CLOCK,
                                WallClock())
    pipeline.frames.store(Frame(np.full((48, 64, 3), 90, np.uint8), CLOCK.now(), 'camera'))
    decision = pipeline.decide('land on the pad')  # a target: not a reflex, the server decides
    assert decision.source == 'remote' and decision.action == 'land'
    assert [_has_image(b) for b in _posts()] == [True, False]  # one deadline, two posts
    assert 'No fresh camera image' in _posts()[1]['messages'][-1]['content']
    assert decider.text_only.startswith('the server refused an image (HTTP 500')
    assert board.level('remote') == WARN and board.snapshot_of('remote').values['images'] == \
        'refused'
    decider.decide(_request(image=True), _within()).validate()
    assert [_has_image(b) for b in _posts()] == [True, False, False]  # no second refusal
    probe = decider.check_health()
    assert probe.ok and probe.dialect == 'llama_cpp' and probe.text_only == decider.text_only
    assert board.level('remote') == WARN and 'text only' in board.snapshot_of('remote').message


def test_the_text_only_mark_is_dropped_when_the_endpoint_changes(text_only):
    decider = RemoteDecider(RemoteSettings(url=text_only))
    decider.decide(_request(image=True), _within()).validate()
    assert decider.text_only
    decider.configure_settings(RemoteSettings(url=text_only, dialect='llama_cpp'))
    assert decider.text_only == ''
    board = HealthBoard(CLOCK)
    fresh = RemoteDecider(RemoteSettings(url=text_only), board)
    assert fresh.check_health().ok and board.level('remote') == OK


def test_auto_detects_once_and_again_after_an_error(text_only):
    decider = RemoteDecider(RemoteSettings(url=text_only))
    decider.decide(_request(), _within()).validate()
    decider.decide(_request(), _within()).validate()
    paths = [s['path'] for s in _TextOnlyServer.seen]
    assert paths == ['/v1/models', '/v1/chat/completions', '/v1/chat/completions']
    assert decider.detection.dialect.name == 'llama_cpp' and 'grammar' in _posts()[0]
    _TextOnlyServer.fail_next = 1
    with pytest.raises(DeciderError, match='HTTP 500: slot unavailable'):
        decider.decide(_request(), _within())
    assert decider.detection is None
    decider.decide(_request(), _within()).validate()
    assert [s['path'] for s in _TextOnlyServer.seen][-2:] == ['/v1/models',
                                                              '/v1/chat/completions']


def test_a_dialect_that_requires_a_model_says_so_when_several_are_served(text_only):
    _TextOnlyServer.models = [{'id': 'a', 'object': 'model', 'owned_by': 'library'},
                              {'id': 'b', 'object': 'model', 'owned_by': 'library'}]
    try:
        decider = RemoteDecider(RemoteSettings(url=text_only))
        with pytest.raises(DeciderError, match=r'Ollama needs a model name: set remote_model '
                                               r'\(it lists a, b\)'):
            decider.decide(_request(), _within())
        named = RemoteDecider(RemoteSettings(url=text_only, model='b'))
        named.decide(_request(), _within()).validate()
        assert _posts()[-1]['model'] == 'b'
    finally:
        del _TextOnlyServer.models
