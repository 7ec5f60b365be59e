"""Download the published ONNX export (chosen variant files only) into `models/<name>/`.

Uses `huggingface_hub` when it is installed, else plain HTTPS with resume. URLs follow the
hub's scheme: files at `{endpoint}/{repo}/resolve/{revision}/{path}`, the file list at
`{endpoint}/api/models/{repo}/revision/{revision}` (its `siblings[].rfilename`).

Before anything else it checks, within a few seconds, that the hub can be reached at all (a
vehicle often has no route to the internet) and says how to copy a model instead. After a
download it writes `model_manifest.json` (each file's size and SHA-256); `--verify DIR` checks
a copied directory against it and names a truncated or corrupted file.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ministral_node.engine.model_files import (
    DECODER_VARIANTS,
    JSON_FILES,
    MANIFEST,
    ModelError,
    manifest_problems,
    onnx_name,
    write_manifest,
)

DEFAULT_REPO = 'mistralai/Ministral-3-3B-Instruct-2512-ONNX'
DEFAULT_NAME = 'ministral-3-3b'
DEFAULT_ENDPOINT = 'https://huggingface.co'
COMPONENTS = ('decoder_model_merged', 'vision_encoder', 'embed_tokens')
CHUNK = 1 << 20
REACH_TIMEOUT_S = 5.0


class FetchError(RuntimeError):
    """The download cannot go ahead; the message says why."""


def file_url(endpoint: str, repo: str, revision: str, path: str) -> str:
    """The hub's download URL of one file at one revision."""
    return f'{endpoint.rstrip("/")}/{repo}/resolve/{quote(revision, safe="")}/{quote(path)}'


def listing_url(endpoint: str, repo: str, revision: str) -> str:
    """The hub API URL whose `siblings` list every file of the repository."""
    return f'{endpoint.rstrip("/")}/api/models/{repo}/revision/{quote(revision, safe="")}'


def select_files(available: list[str], variants: dict[str, str]) -> list[str]:
    """The json configs, the chosen variant of each graph and that graph's external data."""
    present = set(available)
    missing = [name for name in JSON_FILES if name not in present]
    chosen = list(JSON_FILES)
    for component, variant in variants.items():
        path = f'onnx/{onnx_name(component, variant)}'
        if path not in present:
            offered = sorted(p.removeprefix(f'onnx/{component}').removeprefix('_')
                             .removesuffix('.onnx') or 'fp32'
                             for p in present if p.startswith(f'onnx/{component}')
                             and p.endswith('.onnx'))
            missing.append(f'{path} (variants offered: {", ".join(offered) or "none"})')
            continue
        chosen.append(path)
        # External data: `<file>.onnx_data`, and `_data_1`, `_data_2`, ... when split.
        chosen += sorted(p for p in present if p.startswith(path + '_data'))
    if missing:
        raise FetchError('the repository lacks ' + '; '.join(missing))
    return chosen


def copy_hint(name: str) -> str:
    """How to install a model on a machine that cannot reach the hub."""
    return (f'to install a model without internet, run scripts/fetch_model on a connected '
            f'machine, copy its models/{name}/ directory here (rsync -a or scp -r), then check '
            f'the copy with scripts/fetch_model --verify models/{name}')


def check_reachable(endpoint: str, timeout_s: float = REACH_TIMEOUT_S,
                    opener: Callable[..., Any] = urllib.request.urlopen) -> None:
    """FetchError within about `timeout_s` unless the hub answers one HEAD request (any HTTP
    status counts as an answer). Proxies, name resolution and TLS count, all within the same
    time: the request runs in a helper thread that is abandoned if it hangs."""
    request = urllib.request.Request(endpoint.rstrip('/') + '/', method='HEAD',
                                     headers=_headers(None))
    outcome: list[BaseException | None] = []

    def attempt() -> None:
        try:
            opener(request, timeout=timeout_s).close()
        except urllib.error.HTTPError:  # the hub answered, with whatever status
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller below
            outcome.append(exc)
        else:
            outcome.append(None)

    thread = threading.Thread(target=attempt, name='fetch-reach', daemon=True)
    thread.start()
    thread.join(timeout_s)
    if not outcome:
        raise FetchError(f'cannot reach {endpoint} (no answer within {timeout_s:g} s: no '
                         'route to the internet?)')
    error = outcome[0]
    if error is None:
        return
    reason = getattr(error, 'reason', error)
    text = getattr(reason, 'strerror', None) or str(reason) or type(reason).__name__
    raise FetchError(f'cannot reach {endpoint} ({" ".join(text.split())})')


def _headers(token: str | None) -> dict[str, str]:
    headers = {'User-Agent': 'ministral_node-fetch/0.1'}
    if token:
        headers['Authorization'] = f'Bearer {token}'
    return headers


def list_files_https(endpoint: str, repo: str, revision: str, token: str | None) -> list[str]:
    """Every file path in the repository at `revision`, over plain HTTPS."""
    request = urllib.request.Request(listing_url(endpoint, repo, revision),
                                     headers=_headers(token))
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            info = json.load(response)
    except urllib.error.HTTPError as exc:
        raise FetchError(f'cannot list {repo}@{revision}: HTTP {exc.code}') from exc
    except urllib.error.URLError as exc:
        raise FetchError(f'cannot reach {endpoint}: {exc.reason}') from exc
    return [s['rfilename'] for s in info.get('siblings', [])]


def download_https(url: str, dest: Path, token: str | None,
                   progress: Callable[[str], None] = print) -> Path:
    """Download `url` to `dest`, resuming a `<dest>.part` left by an interrupted run."""
    if dest.is_file():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + '.part')
    have = part.stat().st_size if part.exists() else 0
    headers = _headers(token)
    if have:
        headers['Range'] = f'bytes={have}-'
    request = urllib.request.Request(url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=60)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # the part file is already whole
            part.replace(dest)
            return dest
        raise FetchError(f'GET {url}: HTTP {exc.code}') from exc
    except urllib.error.URLError as exc:
        raise FetchError(f'GET {url}: {exc.reason}') from exc
    with response:
        # Only a 206 continues the part file; a 200 is the whole file from the start.
        resumed = response.status == 206
        mode = 'ab' if resumed else 'wb'
        total = response.headers.get('Content-Length')
        expected = (have if resumed else 0) + int(total) if total else None
        progress(f'{"resuming" if resumed else "fetching"} {dest.name}'
                 + (f' ({expected / 2**20:.1f} MiB)' if expected else ''))
        with open(part, mode) as handle:
            shutil.copyfileobj(response, handle, CHUNK)
    size = part.stat().st_size
    if expected is not None and size != expected:
        raise FetchError(f'{dest.name}: got {size} bytes, expected {expected}; run again to '
                         'resume')
    part.replace(dest)
    return dest


def fetch(repo: str, revision: str, dest: Path, variants: dict[str, str], token: str | None,
          endpoint: str, method: str = 'auto', dry_run: bool = False,
          progress: Callable[[str], None] = print) -> list[str]:
    """Fetch the selected files into `dest` and write its manifest; returns their repository
    paths. FetchError (one line) on any failure, within seconds if the hub is unreachable."""
    check_reachable(endpoint)
    try:
        files = _fetch(repo, revision, dest, variants, token, endpoint, method, dry_run,
                       progress)
    except (FetchError, KeyboardInterrupt):
        raise
    except Exception as exc:
        raise FetchError(f'{type(exc).__name__}: {" ".join(str(exc).split())}') from exc
    if not dry_run:
        write_manifest(dest, files, f'{endpoint.rstrip("/")}/{repo}@{revision}', progress)
    return files


def _fetch(repo: str, revision: str, dest: Path, variants: dict[str, str], token: str | None,
           endpoint: str, method: str, dry_run: bool, progress: Callable[[str], None]
           ) -> list[str]:
    hub = None
    if method in ('auto', 'hub'):
        try:
            import huggingface_hub as hub
        except ImportError:
            if method == 'hub':
                raise FetchError('huggingface_hub is not installed') from None
    if hub is not None:
        api = hub.HfApi(endpoint=endpoint, token=token)
        available = api.list_repo_files(repo, revision=revision)
    else:
        available = list_files_https(endpoint, repo, revision, token)
    files = select_files(available, variants)
    for path in files:
        if dry_run:
            progress(f'{file_url(endpoint, repo, revision, path)} -> {dest / path}')
        elif hub is not None:
            hub.hf_hub_download(repo, path, revision=revision, local_dir=dest, token=token,
                                endpoint=endpoint)
        else:
            download_https(file_url(endpoint, repo, revision, path), dest / path, token,
                           progress)
    return files


def verify(model_dir: Path, progress: Callable[[str], None] = print) -> int:
    """Check every file of `model_dir` against its manifest (sizes and SHA-256); print what
    does not match. 0 when the copy is good, 1 otherwise."""
    try:
        problems = manifest_problems(model_dir, hashes=True, progress=progress)
    except ModelError as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 1
    if problems is None:
        print(f'error: {model_dir} has no {MANIFEST}; write one on the machine with the good '
              f'copy (scripts/fetch_model --write-manifest DIR) and copy it along',
              file=sys.stderr)
        return 1
    for problem in problems:
        print(f'BAD {problem}', file=sys.stderr)
    files = json.loads((model_dir / MANIFEST).read_text(encoding='utf-8'))['files']
    if problems:
        print(f'error: {len(problems)} of {len(files)} files in {model_dir} do not match '
              f'{MANIFEST}; copy them again', file=sys.stderr)
        return 1
    print(f'{len(files)} files in {model_dir} match {MANIFEST}')
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Checked command-line arguments."""
    parser = argparse.ArgumentParser(prog='fetch_model', description=__doc__.split('\n')[0])
    check = parser.add_mutually_exclusive_group()
    check.add_argument('--verify', metavar='DIR', type=Path,
                       help=f'check a model directory (a copy) against its {MANIFEST}: '
                            'names missing, truncated and corrupted files; downloads nothing')
    check.add_argument('--write-manifest', metavar='DIR', type=Path,
                       help=f'write {MANIFEST} for a model directory made another way '
                            '(export, a copy already checked)')
    parser.add_argument('--repo', default=DEFAULT_REPO)
    parser.add_argument('--revision', default='main', help='branch, tag or commit')
    parser.add_argument('--name', default=DEFAULT_NAME,
                        help='directory name under --models-dir (the model_dir to configure)')
    parser.add_argument('--models-dir', default=None,
                        help="where model directories live (default: the package's models/)")
    parser.add_argument('--decoder', default='q4', choices=DECODER_VARIANTS)
    parser.add_argument('--vision', default='q4', choices=DECODER_VARIANTS)
    parser.add_argument('--embed', default='fp16', choices=DECODER_VARIANTS)
    parser.add_argument('--endpoint', default=os.environ.get('HF_ENDPOINT', DEFAULT_ENDPOINT))
    parser.add_argument('--method', choices=('auto', 'hub', 'https'), default='auto',
                        help='huggingface_hub if installed (auto), or plain HTTPS with resume')
    parser.add_argument('--dry-run', action='store_true', help='list what would be fetched')
    args = parser.parse_args(argv)
    if '/' not in args.repo or args.repo.count('/') != 1:
        parser.error(f'--repo must be owner/name, got {args.repo!r}')
    if not args.name or '/' in args.name or args.name in ('.', '..'):
        parser.error(f'--name must be a plain directory name, got {args.name!r}')
    return args


def main(argv: list[str] | None = None) -> int:
    """Command line entry point (scripts/fetch_model)."""
    args = parse_args(argv)
    if args.verify:
        return verify(args.verify)
    if args.write_manifest:
        if not args.write_manifest.is_dir():
            print(f'error: {args.write_manifest} is not a directory', file=sys.stderr)
            return 1
        print(f'wrote {write_manifest(args.write_manifest, progress=print)}')
        return 0
    if args.models_dir:
        models = Path(args.models_dir)
    else:
        from ministral_node.resources import models_dir

        models = models_dir()
    dest = models / args.name
    variants = {'decoder_model_merged': args.decoder, 'vision_encoder': args.vision,
                'embed_tokens': args.embed}
    token = os.environ.get('HF_TOKEN') or os.environ.get('HUGGING_FACE_HUB_TOKEN')
    try:
        files = fetch(args.repo, args.revision, dest, variants, token, args.endpoint,
                      args.method, args.dry_run)
    except FetchError as exc:
        hint = f'; {copy_hint(args.name)}' if str(exc).startswith('cannot reach') else ''
        print(f'error: {exc}{hint}', file=sys.stderr)
        return 1
    if not args.dry_run:
        print(f'{len(files)} files in {dest}; set model_dir: {dest}')
    return 0
