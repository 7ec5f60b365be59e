"""`ministral-serve`: serve a Ministral model to the drones over an OpenAI-compatible API.

    ministral-serve --model DIR                    # 127.0.0.1:8000, CUDA if available
    ministral-serve --model DIR --host 0.0.0.0 --api-key-env GS_API_KEY
    ministral-serve --no-model --inject-response '{"action":"change_altitude",...}'

The drone's `remote_url` parameter points at it. Engine options take the onboard parameters'
names, defaults and ranges. Fault injection (`--inject-*`) makes a misbehaving ground station
for tests and demos. Exit codes: 0 stopped (Ctrl-C, SIGTERM), 2 bad options, unloadable model
or busy port.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading

from ministral_node import parameters
from ministral_node.engine.engine import VisionLanguageEngine
from ministral_node.engine.model_files import ModelError
from ministral_node.ground.server import GARBAGE_KINDS, ChatServer, Faults, ServeOptions
from ministral_node.sources.onboard import default_model_dir, engine_options

# Onboard parameters that mean the same on the ground station, offered as --flags.
ENGINE_PARAMS = ('decoder_variant', 'vision_variant', 'embed_variant', 'execution_providers',
                 'intra_op_threads', 'inter_op_threads', 'max_image_edge', 'prefix_cache',
                 'max_image_pixels')


class ServeError(Exception):
    """Options or a model the server cannot start with (exit code 2)."""


def _add_param(parser: argparse.ArgumentParser, name: str) -> None:
    spec = parameters.SPECS[name]
    flag = '--' + name.replace('_', '-')
    help_text = spec.description.replace('%', '%%') + ' (default: %(default)s)'
    if spec.kind == 'bool':
        parser.add_argument(flag, dest=name, action=argparse.BooleanOptionalAction,
                            default=spec.default, help=help_text)
    elif spec.kind.endswith('_list'):
        parser.add_argument(flag, dest=name, nargs='+', default=spec.default,
                            choices=spec.choices or None, help=help_text)
    else:
        kind = {'int': int, 'float': float, 'str': str}[spec.kind]
        parser.add_argument(flag, dest=name, type=kind, default=spec.default,
                            choices=spec.choices or None, help=help_text)


def parser() -> argparse.ArgumentParser:
    """The command line of ministral-serve."""
    cli = argparse.ArgumentParser(
        prog='ministral-serve',
        description='Serve a Ministral vision-language model (ONNX) over an OpenAI-compatible '
                    'chat-completions API, for the drones\' remote decision source.')
    cli.add_argument('--host', default='127.0.0.1',
                     help='address to bind (default: %(default)s; 0.0.0.0 for every interface)')
    cli.add_argument('--port', type=int, default=8000, help='port (default: %(default)s; 0 picks '
                                                             'a free one)')
    model = cli.add_mutually_exclusive_group()
    model.add_argument('--model', metavar='DIR',
                       help=f'model directory in the published ONNX layout (default: '
                            f'{default_model_dir()})')
    model.add_argument('--no-model', action='store_true',
                       help='serve without a model: 503, unless a reply is injected')
    cli.add_argument('--served-model-name', default='',
                     help='model id clients name (default: the model directory\'s name)')
    cli.add_argument('--max-tokens', type=int, default=parameters.SPECS['max_new_tokens'].default,
                     help='max_tokens of requests that give none (default: %(default)s)')
    cli.add_argument('--max-tokens-limit', type=int, default=4096,
                     help='largest max_tokens a request may ask for (default: %(default)s)')
    cli.add_argument('--queue-wait-s', type=float, default=ServeOptions.queue_wait_s,
                     help='how long a request waits for the generator (one at a time) before '
                          '503 busy (default: %(default)s)')
    cli.add_argument('--api-key-env', default='', metavar='NAME',
                     help='require the key in this environment variable as Authorization: '
                          'Bearer (default: no key)')
    for name in ENGINE_PARAMS:
        _add_param(cli, name)
    faults = cli.add_argument_group('fault injection (tests and demos)')
    faults.add_argument('--inject-delay-s', type=float, default=0.0,
                        help='wait this long before every chat reply')
    faults.add_argument('--inject-garbage', choices=GARBAGE_KINDS,
                        help='reply with content that is not JSON, JSON that is not a '
                             'proposal, or a body that is not JSON')
    faults.add_argument('--inject-response', metavar='CONTENT',
                        help='reply with this content (e.g. an out-of-envelope proposal)')
    faults.add_argument('--inject-status', type=int, default=0, metavar='CODE',
                        help='answer every chat request with this HTTP error status')
    cli.add_argument('--log-level', default='INFO',
                     choices=('DEBUG', 'INFO', 'WARNING', 'ERROR'))
    return cli


def make_server(args: argparse.Namespace) -> ChatServer:
    """A bound, not yet serving, server for parsed arguments; ServeError says what is wrong."""
    if args.inject_status and not 400 <= args.inject_status <= 599:
        raise ServeError(f'--inject-status {args.inject_status} is not an HTTP error status')
    api_key = ''
    if args.api_key_env:
        api_key = os.environ.get(args.api_key_env, '').strip()
        if not api_key:
            raise ServeError(f'--api-key-env {args.api_key_env}: the variable is not set')
    try:
        values = parameters.validate({**parameters.defaults(),
                                      **{name: getattr(args, name) for name in ENGINE_PARAMS}})
    except parameters.ParameterError as exc:
        raise ServeError(str(exc)) from exc
    if not 1 <= args.max_tokens <= args.max_tokens_limit:
        raise ServeError(f'--max-tokens must be from 1 to --max-tokens-limit '
                         f'({args.max_tokens_limit})')
    engine = None
    if not args.no_model:
        try:
            engine = VisionLanguageEngine.load(args.model or default_model_dir(),
                                               engine_options(values))
        except ModelError as exc:
            raise ServeError(f'cannot load the model: {exc}') from exc
    options = ServeOptions(model_name=args.served_model_name, default_max_tokens=args.max_tokens,
                           max_tokens_limit=args.max_tokens_limit,
                           queue_wait_s=args.queue_wait_s,
                           max_image_pixels=int(values['max_image_pixels']), api_key=api_key)
    faults = Faults(args.inject_delay_s, args.inject_garbage or '', args.inject_response,
                    args.inject_status)
    try:
        server = ChatServer((args.host, args.port), engine, options, faults)
    except OSError as exc:
        raise ServeError(f'cannot listen on {args.host}:{args.port}: {exc.strerror}') from exc
    try:
        server.warm()
    except Exception:
        server.server_close()
        raise
    return server


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=args.log_level, format='%(asctime)s %(levelname)s %(message)s')
    try:
        server = make_server(args)
    except ServeError as exc:
        print(f'ministral-serve: {exc}', file=sys.stderr)
        return 2
    what = server.model_name if server.engine is not None else 'no model'
    print(f'ministral-serve: {what} on {server.url}', flush=True)
    # SIGTERM (systemd, docker stop) ends like Ctrl-C; shutdown() must not run on the thread
    # that serves, which is the one receiving the signal.
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
