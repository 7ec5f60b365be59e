"""What the remote client and `ministral-serve` share of the OpenAI chat-completions protocol.

Endpoint URLs, the structured-output `response_format`, and error bodies (standard library
only: `parameters` checks `remote_url` with it). Images travel as data URLs made and read by
`image_conversion.jpeg_data_url` and `image_conversion.decode_data_url`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlsplit

CHAT_PATH = '/v1/chat/completions'
MODELS_PATH = '/v1/models'
HEALTH_PATH = '/health'
SCHEMA_NAME = 'decision'
DEFAULT_PORTS = {'http': 80, 'https': 443}


@dataclass(frozen=True)
class Endpoint:
    """An OpenAI-compatible server: where to connect and the path prefix before `/v1`."""

    scheme: str
    host: str
    port: int
    base_path: str = ''

    @property
    def origin(self) -> str:
        """`scheme://host:port` (IPv6 hosts bracketed), for logs and model identity."""
        host = f'[{self.host}]' if ':' in self.host else self.host
        return f'{self.scheme}://{host}:{self.port}'

    def path(self, api_path: str) -> str:
        """The request path of `api_path` (e.g. CHAT_PATH) on this server."""
        return self.base_path + api_path


def parse_endpoint(url: str) -> Endpoint:
    """An `Endpoint` from a base URL given with or without `/v1`; ValueError says what is wrong.

    Credentials never belong in the URL (they would end up in parameter dumps and logs): a URL
    with a user name, password or query string is refused.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise ValueError(f'{url!r} is not a URL: {exc}') from exc
    if parts.scheme not in DEFAULT_PORTS:
        raise ValueError(f'{url!r}: the scheme must be http or https')
    if not parts.hostname:
        raise ValueError(f'{url!r} names no host')
    if parts.username is not None or parts.password is not None or parts.query:
        raise ValueError('the URL must not carry credentials or a query; give the API key '
                         'through the environment variable named by remote_api_key_env')
    base = parts.path.rstrip('/')
    base = base.removesuffix('/v1')
    return Endpoint(parts.scheme, parts.hostname, port or DEFAULT_PORTS[parts.scheme], base)


def response_format(schema: dict) -> dict:
    """The strict structured-output `response_format` for `schema`."""
    return {'type': 'json_schema',
            'json_schema': {'name': SCHEMA_NAME, 'schema': schema, 'strict': True}}


def error_body(message: str, kind: str = 'invalid_request_error',
               code: str | None = None) -> dict:
    """An OpenAI-shaped error object."""
    return {'error': {'message': message, 'type': kind, 'param': None, 'code': code}}


def error_message(body: bytes) -> str:
    """The message of an error reply (OpenAI-shaped or not), on one short line."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return ' '.join(body[:200].decode('utf-8', 'replace').split()) or '(empty body)'
    error = data.get('error') if isinstance(data, dict) else None
    if isinstance(error, dict) and isinstance(error.get('message'), str):
        return error['message']
    if isinstance(error, str):
        return error
    if isinstance(data, dict) and isinstance(data.get('detail'), str):  # FastAPI style
        return data['detail']
    message = data.get('message') if isinstance(data, dict) else None  # Mistral's API
    if isinstance(message, str):
        return message
    if isinstance(message, dict) and isinstance(message.get('detail'), list):
        return '; '.join(f'{"/".join(str(p) for p in d.get("loc", []))}: {d.get("msg")}'
                         for d in message['detail'] if isinstance(d, dict))
    return json.dumps(data)[:200]
