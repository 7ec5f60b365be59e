"""scripts/fetch_model offline: arguments, file selection, URLs, resume over loopback, failing
fast without connectivity, and the manifest that checks a copied model."""

import hashlib
import http.server
import json
import socket
import ssl
import threading
import urllib.error
from pathlib import Path

import pytest

from ministral_node.engine.model_files import MANIFEST
from ministral_node.tools import fetch

LISTING = [
    '.gitattributes', 'README.md', 'config.json', 'generation_config.json',
    'preprocessor_config.json', 'tokenizer.json', 'tokenizer_config.json',
    'onnx/decoder_model_merged.onnx', 'onnx/decoder_model_merged.onnx_data',
    'onnx/decoder_model_merged.onnx_data_1',
    'onnx/decoder_model_merged_q4.onnx', 'onnx/decoder_model_merged_q4.onnx_data',
    'onnx/decoder_model_merged_q4f16.onnx', 'onnx/decoder_model_merged_q4f16.onnx_data',
    'onnx/embed_tokens.onnx', 'onnx/embed_tokens_fp16.onnx',
    'onnx/embed_tokens_fp16.onnx_data', 'onnx/vision_encoder_q4.onnx',
    'onnx/vision_encoder_q4.onnx_data', 'onnx/vision_encoder_fp16.onnx',
]
DEFAULT = {'decoder_model_merged': 'q4', 'vision_encoder': 'q4', 'embed_tokens': 'fp16'}


def test_selects_only_the_chosen_variants_and_their_data():
    files = fetch.select_files(LISTING, DEFAULT)
    assert files == ['config.json', 'tokenizer.json', 'preprocessor_config.json',
                     'generation_config.json', 'onnx/decoder_model_merged_q4.onnx',
                     'onnx/decoder_model_merged_q4.onnx_data', 'onnx/vision_encoder_q4.onnx',
                     'onnx/vision_encoder_q4.onnx_data', 'onnx/embed_tokens_fp16.onnx',
                     'onnx/embed_tokens_fp16.onnx_data']


def test_split_external_data_and_fp32_names():
    files = fetch.select_files(LISTING, {**DEFAULT, 'decoder_model_merged': 'fp32'})
    assert [f for f in files if 'decoder' in f] == [
        'onnx/decoder_model_merged.onnx', 'onnx/decoder_model_merged.onnx_data',
        'onnx/decoder_model_merged.onnx_data_1']
    files = fetch.select_files(LISTING, {**DEFAULT, 'decoder_model_merged': 'q4f16'})
    assert 'onnx/decoder_model_merged_q4.onnx_data' not in files
    assert 'onnx/decoder_model_merged_q4f16.onnx_data' in files


def test_a_missing_variant_lists_what_is_offered():
    with pytest.raises(fetch.FetchError, match=r'decoder_model_merged_int8.onnx \(variants '
                                               r'offered: fp32, q4, q4f16\)'):
        fetch.select_files(LISTING, {**DEFAULT, 'decoder_model_merged': 'int8'})
    with pytest.raises(fetch.FetchError, match='lacks tokenizer.json'):
        fetch.select_files([f for f in LISTING if f != 'tokenizer.json'], DEFAULT)


def test_urls_follow_the_hub_scheme():
    assert fetch.file_url('https://huggingface.co/', fetch.DEFAULT_REPO, 'main',
                          'onnx/a b.onnx') == ('https://huggingface.co/mistralai/'
                                               'Ministral-3-3B-Instruct-2512-ONNX/resolve/main/'
                                               'onnx/a%20b.onnx')
    assert fetch.listing_url('https://hf.example', 'o/r', 'refs/pr/1') == \
        'https://hf.example/api/models/o/r/revision/refs%2Fpr%2F1'


def test_arguments():
    args = fetch.parse_args([])
    assert (args.repo, args.revision, args.name, args.decoder, args.vision, args.embed) == \
        (fetch.DEFAULT_REPO, 'main', 'ministral-3-3b', 'q4', 'q4', 'fp16')
    args = fetch.parse_args(['--decoder', 'q4f16', '--name', 'gpu', '--method', 'https'])
    assert (args.decoder, args.name, args.method) == ('q4f16', 'gpu', 'https')
    for bad in (['--decoder', 'q3'], ['--repo', 'no-owner'], ['--name', '../x']):
        with pytest.raises(SystemExit):
            fetch.parse_args(bad)


class _RangeHandler(http.server.BaseHTTPRequestHandler):
    files: dict = {}
    requests: list = []

    def do_GET(self):
        self.requests.append((self.path, self.headers.get('Range')))
        if self.path.startswith('/api/models/'):
            body = ('{"siblings": [' + ','.join(f'{{"rfilename": "{f}"}}' for f in LISTING)
                    + ']}').encode()
            return self._send(200, body)
        name = self.path.split('/resolve/main/', 1)[-1]
        data = self.files.get(name)
        if data is None:
            return self._send(404, b'')
        start = 0
        if self.headers.get('Range'):
            start = int(self.headers['Range'].removeprefix('bytes=').rstrip('-'))
            if start >= len(data):
                return self._send(416, b'')
            return self._send(206, data[start:])
        return self._send(200, data)

    def _send(self, status, body):
        self.send_response(status)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture()
def server():
    _RangeHandler.files = {name: (name.encode() * 1000)[:5000 + i]
                           for i, name in enumerate(LISTING)}
    _RangeHandler.requests = []
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), _RangeHandler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={'poll_interval': 0.05},
                              daemon=True)
    thread.start()
    yield f'http://127.0.0.1:{httpd.server_address[1]}'
    httpd.shutdown()
    httpd.server_close()


def test_https_download_resumes_a_partial_file(server, tmp_path):
    name = 'onnx/decoder_model_merged_q4.onnx_data'
    dest = tmp_path / name
    dest.parent.mkdir(parents=True)
    whole = _RangeHandler.files[name]
    Path(str(dest) + '.part').write_bytes(whole[:1234])
    fetch.download_https(fetch.file_url(server, 'o/r', 'main', name), dest, None,
                         progress=lambda m: None)
    assert dest.read_bytes() == whole
    assert _RangeHandler.requests[-1][1] == 'bytes=1234-'


def test_fetch_over_https_writes_the_model_layout(server, tmp_path):
    files = fetch.fetch('o/r', 'main', tmp_path / 'm', DEFAULT, None, server, method='https',
                        progress=lambda m: None)
    assert len(files) == 10
    for path in files:
        assert (tmp_path / 'm' / path).read_bytes() == _RangeHandler.files[path]
    assert not list((tmp_path / 'm').rglob('*.part'))
    # A second run finds everything present and downloads nothing.
    count = len(_RangeHandler.requests)
    fetch.fetch('o/r', 'main', tmp_path / 'm', DEFAULT, None, server, method='https',
                progress=lambda m: None)
    assert len(_RangeHandler.requests) == count + 1  # the listing only


def test_dry_run_prints_urls(server, tmp_path):
    lines = []
    fetch.fetch('o/r', 'main', tmp_path / 'm', DEFAULT, None, server, method='https',
                dry_run=True, progress=lines.append)
    assert len(lines) == 10 and lines[0].startswith(f'{server}/o/r/resolve/main/config.json')
    assert not (tmp_path / 'm').exists()


def test_main_reports_errors_without_a_traceback(server, tmp_path, capsys):
    code = fetch.main(['--models-dir', str(tmp_path), '--endpoint', server, '--method',
                       'https', '--vision', 'int8'])
    assert code == 1
    assert 'error: the repository lacks onnx/vision_encoder_int8.onnx' in capsys.readouterr().err


# Without connectivity: fail fast, say how to copy a model, verify the copy.

def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize('method', ['https', 'auto'])
def test_an_unreachable_hub_fails_with_one_line_and_the_copy_instructions(tmp_path, capsys,
                                                                          method):
    endpoint = f'http://127.0.0.1:{_closed_port()}'
    code = fetch.main(['--models-dir', str(tmp_path), '--endpoint', endpoint,
                       '--method', method])
    err = capsys.readouterr().err
    assert code == 1 and err.count('\n') == 1
    assert err.startswith(f'error: cannot reach {endpoint} (Connection refused); ')
    for hint in ('copy its models/ministral-3-3b/', 'rsync -a', 'scp -r',
                 'scripts/fetch_model --verify models/ministral-3-3b'):
        assert hint in err
    assert not (tmp_path / 'ministral-3-3b').exists()


def test_no_answer_from_the_hub_fails_after_the_timeout():
    hung = threading.Event()

    def unroutable(request, timeout):
        hung.wait(timeout + 5)  # a SYN into the void: no answer, no error
        raise TimeoutError('timed out')

    with pytest.raises(fetch.FetchError, match=r'^cannot reach https://hub.example \(no answer '
                                               r'within 0.2 s'):
        fetch.check_reachable('https://hub.example', timeout_s=0.2, opener=unroutable)
    hung.set()


@pytest.mark.parametrize('reason, expected', [
    (socket.gaierror(-3, 'Temporary failure in name resolution'),
     'Temporary failure in name resolution'),
    (ssl.SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify '
                                     'failed'), 'CERTIFICATE_VERIFY_FAILED'),
    (OSError(101, 'Network is unreachable'), 'Network is unreachable'),
])
def test_network_failures_are_one_line(reason, expected):
    def failing(request, timeout):
        raise urllib.error.URLError(reason)

    with pytest.raises(fetch.FetchError) as info:
        fetch.check_reachable('https://huggingface.co', opener=failing)
    message = str(info.value)
    assert message.startswith('cannot reach https://huggingface.co (') and expected in message
    assert '\n' not in message


def test_any_http_answer_means_the_hub_is_reachable(server):
    seen = []

    def answering(request, timeout):
        seen.append((request.get_method(), request.full_url))
        raise urllib.error.HTTPError(request.full_url, 405, 'Method Not Allowed', {}, None)

    fetch.check_reachable('https://huggingface.co', opener=answering)
    assert seen == [('HEAD', 'https://huggingface.co/')]
    fetch.check_reachable(server)  # the loopback test server answers HEAD with 501


def test_any_hub_error_becomes_one_line(monkeypatch, server, tmp_path, capsys):
    def broken(*args):
        raise RuntimeError('HfHubHTTPError\n  deep inside\n  requests')
    monkeypatch.setattr(fetch, '_fetch', broken)
    code = fetch.main(['--models-dir', str(tmp_path), '--endpoint', server])
    assert code == 1
    assert capsys.readouterr().err == 'error: RuntimeError: HfHubHTTPError deep inside ' \
                                      'requests\n'


def test_a_download_writes_a_manifest_that_verify_accepts(server, tmp_path, capsys):
    root = tmp_path / 'm'
    files = fetch.fetch('o/r', 'main', root, DEFAULT, None, server, method='https',
                        progress=lambda m: None)
    manifest = json.loads((root / MANIFEST).read_text())
    assert sorted(manifest['files']) == sorted(files)
    name = 'onnx/decoder_model_merged_q4.onnx_data'
    assert manifest['files'][name] == {
        'size': len(_RangeHandler.files[name]),
        'sha256': hashlib.sha256(_RangeHandler.files[name]).hexdigest()}
    assert fetch.main(['--verify', str(root)]) == 0
    assert f'10 files in {root} match {MANIFEST}' in capsys.readouterr().out


@pytest.mark.parametrize('damage, expected', [
    (lambda p: p.write_bytes(p.read_bytes()[:-100]), 'bytes, the manifest says'),
    (lambda p: p.write_bytes(b'X' + p.read_bytes()[1:]), 'SHA-256 differs from the manifest '
                                                        '(corrupted)'),
    (lambda p: p.unlink(), 'missing'),
])
def test_verify_names_a_truncated_corrupted_or_missing_file(server, tmp_path, capsys, damage,
                                                            expected):
    root = tmp_path / 'm'
    fetch.fetch('o/r', 'main', root, DEFAULT, None, server, method='https',
                progress=lambda m: None)
    damage(root / 'onnx' / 'vision_encoder_q4.onnx_data')
    capsys.readouterr()
    assert fetch.main(['--verify', str(root)]) == 1
    err = capsys.readouterr().err
    assert 'BAD onnx/vision_encoder_q4.onnx_data: ' in err and expected in err
    assert f'error: 1 of 10 files in {root} do not match {MANIFEST}' in err


def test_verify_without_a_manifest_and_write_manifest(tmp_path, capsys):
    (tmp_path / 'onnx').mkdir()
    (tmp_path / 'onnx' / 'a.onnx').write_bytes(b'abc')
    (tmp_path / 'config.json').write_text('{}')
    assert fetch.main(['--verify', str(tmp_path)]) == 1
    assert f'has no {MANIFEST}' in capsys.readouterr().err
    assert fetch.main(['--write-manifest', str(tmp_path)]) == 0
    assert sorted(json.loads((tmp_path / MANIFEST).read_text())['files']) == \
        ['config.json', 'onnx/a.onnx']
    assert fetch.main(['--verify', str(tmp_path)]) == 0
