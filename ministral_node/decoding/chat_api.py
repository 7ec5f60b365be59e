"""What the remote client and `ministral-serve` share of the OpenAI chat-completions protocol.

Endpoint URLs, the structured-output `response_format`, and error bodies (standard library
only: `parameters` checks `remote_url` with it). Images travel as data URLs made and read by
`image_conversion.jpeg_data_url` and `image_conversion.decode_data_url`.
"""

from __future__ import annotations

import json

CHAT_PATH = '/v1/chat/completions'
MODELS_PATH = '/v1/models'
HEALTH_PATH = '/health'
SCHEMA_NAME = 'decision'


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
