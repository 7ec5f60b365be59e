"""ministral-serve: the OpenAI-compatible server around the engine, spoken to over plain HTTP."""

import base64
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from engine_models import model
from serve_support import call, engine, running

from ministral_node.cli.serve import ServeError, make_server, parser
from ministral_node.decision import Proposal
from ministral_node.decoding.chat_api import CHAT_PATH, response_format
from ministral_node.decoding.constrained import generation_schema
from ministral_node.decoding.gbnf import decision_grammar
from ministral_node.engine.generation import GenerationError
from ministral_node.ground.server import Faults, ServeOptions
from ministral_node.inputs.image_conversion import jpeg_data_url
from ministral_node.sources.system_prompt import system_prompt

IMAGE = jpeg_data_url(np.full((56, 84, 3), 128, np.uint8), 84)


def _chat(text='take off', image=None, schema=True, **extra) -> dict:
    content = [{'type': 'text', 'text': text}]
    if image is not None:
        content.insert(0, {'type': 'image_url', 'image_url': {'url': image}})
    body = {'messages': [{'role': 'system', 'content': system_prompt()},
                         {'role': 'user', 'content': content}],
            'temperature': 0.0, **extra}
    if schema and 'response_format' not in extra:
        body['response_format'] = response_format(generation_schema())
    return body


def _generating(server) -> tuple[threading.Thread, dict]:
    """A chat request sent from a thread, returned once the server is generating it; its reply
    lands in the dict under 'reply'."""
    result = {}
    worker = threading.Thread(target=lambda: result.update(
        reply=call(server.url, 'POST', CHAT_PATH, _chat())))
    worker.start()
    deadline = time.monotonic() + 2.0
    while not server.busy and time.monotonic() < deadline:
        time.sleep(0.005)
    return worker, result


@pytest.fixture(scope='module')
def server():
    with running(engine()) as chat_server:
        yield chat_server


@pytest.fixture(autouse=True)
def _no_faults(request):
    yield
    if 'server' in request.fixturenames:
        request.getfixturevalue('server').faults = Faults()


def test_models_and_health_describe_the_served_model(server):
    status, _, models = call(server.url, 'GET', '/v1/models')
    assert status == 200 and [m['id'] for m in models['data']] == ['deterministic']
    assert models['object'] == 'list' and models['data'][0]['object'] == 'model'
    status, _, health = call(server.url, 'GET', '/health')
    assert (status, health['status'], health['model']) == (200, 'ok', 'deterministic')


def test_a_constrained_completion_is_a_valid_proposal_in_openai_shape(server):
    status, headers, reply = call(server.url, 'POST', CHAT_PATH,
                                  _chat(image=IMAGE, max_tokens=256))
    assert status == 200 and headers['Content-Type'] == 'application/json'
    assert reply['object'] == 'chat.completion' and reply['id'].startswith('chatcmpl-')
    assert reply['model'] == 'deterministic'
    choice = reply['choices'][0]
    assert choice['finish_reason'] == 'stop' and choice['message']['role'] == 'assistant'
    Proposal.from_json(choice['message']['content']).validate()
    usage = reply['usage']
    assert usage['completion_tokens'] > 0
    assert usage['total_tokens'] == usage['prompt_tokens'] + usage['completion_tokens']
    assert server.last_request.image.shape == (56, 84, 3)
    assert server.last_request.generation.max_new_tokens == 256


def test_without_a_response_format_the_model_writes_free_text_up_to_max_tokens(server):
    status, _, reply = call(server.url, 'POST', CHAT_PATH, _chat(schema=False, max_tokens=7))
    assert status == 200
    assert reply['usage']['completion_tokens'] == 7
    assert reply['choices'][0]['finish_reason'] == 'length'


def test_the_seed_makes_sampling_repeatable():
    with running(engine('random')) as server:
        def sample(seed):
            body = _chat(temperature=1.0, top_p=0.95, seed=seed, max_tokens=256)
            return call(server.url, 'POST', CHAT_PATH, body)[2]['choices'][0]['message']

        assert sample(3) == sample(3)
        assert len({sample(seed)['content'] for seed in range(4)}) > 1


@pytest.mark.parametrize('body, message', [
    (b'{not json', 'the body is not JSON'),
    ([1], 'must be a JSON object'),
    ({'messages': []}, 'messages must be a non-empty list'),
    ({'messages': [{'role': 'assistant', 'content': 'hi'}]}, "unsupported message role"),
    ({'messages': [{'role': 'system', 'content': 'x'}]}, 'there is no user message'),
    (_chat(image=IMAGE, stream=True), 'streaming is not supported'),
    (_chat(n=2), 'only n=1'),
    (_chat(temperature=5), 'temperature must be a number from 0.0 to 2.0'),
    (_chat(max_tokens='many'), 'max_tokens must be an integer'),
    (_chat(max_tokens=20), 'max_new_tokens 20 is too small'),
    (_chat(response_format={'type': 'json_object'}), "type 'json_object' is not supported"),
    (_chat(response_format={'type': 'json_schema', 'json_schema': {}}), 'must be a JSON Schema'),
    (_chat(response_format=response_format({'type': 'object', 'properties': {
        'a': {'type': 'array', 'items': {'type': 'integer'}}}})), 'array without maxItems'),
    (_chat(response_format=response_format({'$ref': '#/$defs/n', '$defs': {'n': {
        'type': 'object', 'properties': {'next': {'$ref': '#/$defs/n'}}}}})),
     'cannot be made finite: RecursionError'),
    (_chat(image='https://example.com/cat.jpg'), 'the server fetches nothing'),
    (_chat(image='data:image/jpeg;base64,@@@'), 'not valid base64'),
    (_chat(image='data:image/png;base64,' + base64.b64encode(b'not a png').decode()),
     "is not a JPEG or PNG: the bytes look like text starting 'not a png'"),
    ({'messages': [{'role': 'user', 'content': [
        {'type': 'image_url', 'image_url': {'url': IMAGE}},
        {'type': 'image_url', 'image_url': {'url': IMAGE}}]}]}, 'at most one image'),
    ({'messages': [{'role': 'user', 'content': [{'type': 'audio'}]}]},
     'unsupported content part'),
    (_chat(grammar=42), 'grammar must be a GBNF grammar string'),
    (_chat(grammar='root ::= "x"'), 'either a grammar or a response_format schema'),
    (_chat(schema=False, grammar='root ::= ('), 'the grammar does not parse'),
    (_chat(response_format={'type': 'json', 'value': 'x'}), 'response_format.value must be'),
])
def test_bad_requests_are_400_with_a_message(server, body, message):
    status, _, reply = call(server.url, 'POST', CHAT_PATH, body)
    assert status == 400, reply
    assert reply['error']['type'] == 'invalid_request_error'
    assert message in reply['error']['message']


def test_unknown_paths_and_models_are_404(server):
    status, _, reply = call(server.url, 'GET', '/v1/engines')
    assert status == 404 and 'no such endpoint' in reply['error']['message']
    status, _, reply = call(server.url, 'POST', CHAT_PATH, _chat(model='gpt-5'))
    assert status == 404 and reply['error']['code'] == 'model_not_found'
    assert "serves 'deterministic'" in reply['error']['message']


def test_an_engine_failure_is_a_500_with_the_reason(server, monkeypatch):
    def broken(*args, **kwargs):
        raise GenerationError('the constraint allows no token')

    monkeypatch.setattr(server.engine, 'generate', broken)
    status, _, reply = call(server.url, 'POST', CHAT_PATH, _chat())
    assert status == 500 and reply['error']['type'] == 'server_error'
    assert reply['error']['message'] == ('generation failed: GenerationError: the constraint '
                                         'allows no token')
    monkeypatch.undo()
    assert call(server.url, 'POST', CHAT_PATH, _chat())[0] == 200  # still serving


def test_without_a_model_chat_and_health_are_503_and_no_model_is_listed():
    with running(None) as server:
        status, _, reply = call(server.url, 'POST', CHAT_PATH, _chat())
        assert status == 503 and reply['error']['message'] == 'no model loaded'
        assert call(server.url, 'GET', '/health')[0] == 503
        assert call(server.url, 'GET', '/v1/models')[2]['data'] == []


def test_one_generation_at_a_time_a_second_request_gets_503_busy():
    with running(engine(), ServeOptions(queue_wait_s=0.0), Faults(delay_s=0.6)) as server:
        worker, first = _generating(server)
        status, headers, reply = call(server.url, 'POST', CHAT_PATH, _chat())
        assert status == 503 and reply['error']['code'] == 'busy'
        assert headers['Retry-After'] == '1'
        worker.join()
        assert first['reply'][0] == 200


def test_a_queued_request_waits_for_the_generator():
    with running(engine(), ServeOptions(queue_wait_s=5.0), Faults(delay_s=0.3)) as server:
        replies = []
        workers = [threading.Thread(target=lambda: replies.append(
            call(server.url, 'POST', CHAT_PATH, _chat())[0])) for _ in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert replies == [200, 200]


@pytest.mark.parametrize('faults, check', [
    (Faults(garbage='content'), lambda r: not r['choices'][0]['message']['content']
     .startswith('{')),
    (Faults(garbage='proposal'), lambda r: 'fly_to_the_moon' in r['choices'][0]['message']
     ['content']),
    (Faults(garbage='body'), lambda r: r.startswith(b'<html>')),
    (Faults(response='{"action":"hold"}'), lambda r: r['choices'][0]['message']['content']
     == '{"action":"hold"}'),
])
def test_injected_faults_replace_the_reply(server, faults, check):
    server.faults = faults
    status, _, reply = call(server.url, 'POST', CHAT_PATH, _chat())
    assert status == 200 and check(reply)


def test_an_injected_status_and_delay(server):
    server.faults = Faults(status=502)
    status, _, reply = call(server.url, 'POST', CHAT_PATH, _chat())
    assert status == 502 and reply['error']['message'] == 'injected HTTP 502'
    server.faults = Faults(delay_s=0.3)
    began = time.monotonic()
    assert call(server.url, 'POST', CHAT_PATH, _chat())[0] == 200
    assert time.monotonic() - began >= 0.3


def test_stopping_the_server_cancels_a_running_request():
    with running(engine(), faults=Faults(delay_s=30.0)) as server:
        worker, result = _generating(server)
        began = time.monotonic()
        server.stop()
        worker.join(5.0)
        assert time.monotonic() - began < 2.0
        status, _, reply = result['reply']
        assert status == 503 and 'server stopping' in reply['error']['message']


def test_an_api_key_is_required_when_configured_except_for_health():
    with running(engine(), ServeOptions(api_key='k-123')) as server:
        assert call(server.url, 'POST', CHAT_PATH, _chat())[0] == 401
        wrong = {'Authorization': 'Bearer k-124'}
        assert call(server.url, 'GET', '/v1/models', headers=wrong)[0] == 401
        right = {'Authorization': 'Bearer k-123'}
        assert call(server.url, 'POST', CHAT_PATH, _chat(), right)[0] == 200
        assert call(server.url, 'GET', '/v1/models', headers=right)[0] == 200
        assert call(server.url, 'GET', '/health')[0] == 200


def test_cli_options_build_the_server_and_its_faults():
    args = parser().parse_args([
        '--model', str(model('deterministic')), '--port', '0', '--execution-providers', 'cpu',
        '--served-model-name', 'ministral-gs', '--inject-delay-s', '0.2',
        '--inject-response', '{"action":"hold"}', '--max-image-edge', '112',
        '--no-prefix-cache', '--queue-wait-s', '0.5'])
    server = make_server(args)
    try:
        assert server.server_address[0] == '127.0.0.1'
        assert server.model_name == 'ministral-gs'
        assert server.faults == Faults(0.2, '', '{"action":"hold"}', 0)
        assert server.options.queue_wait_s == 0.5
        assert server.engine.options.max_image_edge == 112
        assert server.engine.options.prefix_cache is False
        assert server.engine.sessions.provider == 'CPUExecutionProvider'
    finally:
        server.stop()


@pytest.mark.parametrize('argv, message', [
    (['--no-model', '--inject-status', '200'], 'not an HTTP error status'),
    (['--model', '/nonexistent/model'], 'cannot load the model'),
    (['--no-model', '--api-key-env', 'MINISTRAL_TEST_UNSET_KEY'], 'the variable is not set'),
    (['--no-model', '--max-image-edge', '5'], 'max_image_edge: 5 is below the minimum 28'),
    (['--no-model', '--max-tokens', '5000'], '--max-tokens must be from 1'),
])
def test_cli_refuses_what_it_cannot_serve(argv, message):
    with pytest.raises(ServeError, match=message):
        make_server(parser().parse_args(['--port', '0', *argv]))


def test_the_console_script_serves_until_terminated():
    command = [os.path.join(os.path.dirname(sys.executable), 'ministral-serve'), '--port', '0',
               '--model', str(model('deterministic')), '--execution-providers', 'cpu']
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith('ministral-serve: deterministic on http://127.0.0.1:'), line
        url = line.split(' on ')[1].strip()
        status, _, reply = call(url, 'POST', CHAT_PATH, _chat())
        assert status == 200
        Proposal.from_json(reply['choices'][0]['message']['content'])
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()



SCHEMA = generation_schema()


@pytest.mark.parametrize('form', [
    {'response_format': {'type': 'json_object', 'schema': SCHEMA}},  # llama-cpp-python
    {'response_format': {'type': 'json', 'value': SCHEMA}},  # TGI
    {'response_format': {'type': 'json_schema', 'value': {'name': 'd', 'schema': SCHEMA}}},
    {'grammar': decision_grammar(256).text},  # llama.cpp, llama-cpp-python
])
def test_other_servers_forms_of_the_structured_request_are_understood(server, form):
    body = {**_chat(schema=False, max_tokens=256, temperature=1.0, seed=3), **form}
    status, _, reply = call(server.url, 'POST', CHAT_PATH, body)
    assert status == 200, reply
    Proposal.from_json(reply['choices'][0]['message']['content']).validate()
    if 'grammar' in form:
        assert server.last_request.grammar == form['grammar']
    else:
        assert generation_schema(server.last_request.schema) == SCHEMA


def test_mistral_random_seed_is_the_seed_and_a_plain_string_is_the_user_text(server):
    body = {'messages': [{'role': 'system', 'content': system_prompt()},
                         {'role': 'user', 'content': 'land now'}],
            'random_seed': 11, 'max_tokens': 256,
            'response_format': response_format(generation_schema())}
    status, _, _ = call(server.url, 'POST', CHAT_PATH, body)
    assert status == 200
    assert server.last_request.generation.seed == 11
    assert server.last_request.text == 'land now'
