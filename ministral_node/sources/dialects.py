"""What each OpenAI-compatible server really accepts, and how to tell them apart.

Every server takes POST /v1/chat/completions, but they differ where it matters to us:

| dialect            | structured output sent                                   | model     |
|--------------------|----------------------------------------------------------|-----------|
| `openai`           | `response_format` json_schema (name, schema, strict)     | if known  |
| `vllm`             | json_schema                                              | if known  |
| `llama_cpp`        | `grammar`: GBNF from our schema, every bound enforced    | if known  |
| `llama_cpp_python` | `grammar` (its `json_schema` type is an HTTP 500)        | if known  |
| `tgi`              | `response_format` {"type": "json", "value": schema}      | if known  |
| `ollama`           | json_schema                                              | required  |
| `mistral`          | json_schema; the seed goes as `random_seed`              | required  |

"if known": the configured `remote_model`, else the only model `/v1/models` lists. Every
dialect gets the user's text as a plain string when no image goes with it (llama-cpp-python's
chat formatters drop list content), and the image as an `image_url` part when one does.

`detect(models_reply, headers)` names the dialect from `GET /v1/models` (its `owned_by` and
extra fields) and the reply headers; `refuses_images(status, message)` recognises a server
that cannot take images.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ministral_node.decoding.chat_api import SCHEMA_NAME

AUTO = 'auto'
JSON_SCHEMA = 'json_schema'
JSON_OBJECT = 'json_object'
TGI_JSON = 'tgi_json'
GRAMMAR = 'grammar'


@dataclass(frozen=True)
class Dialect:
    """How to talk to one kind of server."""

    name: str
    structured: str  # JSON_SCHEMA, JSON_OBJECT, TGI_JSON or GRAMMAR
    requires_model: bool = False
    seed_field: str = 'seed'
    server: str = ''  # what it is, for logs and diagnostics

    def response_format(self, schema: dict) -> dict | None:
        """The `response_format` carrying `schema` (None when a grammar carries it)."""
        if self.structured == JSON_SCHEMA:
            return {'type': 'json_schema',
                    'json_schema': {'name': SCHEMA_NAME, 'schema': schema, 'strict': True}}
        if self.structured == JSON_OBJECT:
            return {'type': 'json_object', 'schema': schema}
        if self.structured == TGI_JSON:
            return {'type': 'json', 'value': schema}
        return None


DIALECTS: dict[str, Dialect] = {d.name: d for d in (
    Dialect('openai', JSON_SCHEMA, server='OpenAI-compatible (ministral-serve, OpenAI)'),
    Dialect('vllm', JSON_SCHEMA, server='vLLM'),
    Dialect('llama_cpp', GRAMMAR, server="llama.cpp's llama-server"),
    Dialect('llama_cpp_python', GRAMMAR, server="llama-cpp-python's server"),
    Dialect('tgi', TGI_JSON, server='Text Generation Inference'),
    Dialect('ollama', JSON_SCHEMA, requires_model=True, server='Ollama'),
    Dialect('mistral', JSON_SCHEMA, requires_model=True, seed_field='random_seed',
            server="Mistral's API"),
)}
NAMES = (AUTO, *DIALECTS)

# Error messages of servers that cannot take an image (llama.cpp without a projector, text
# models behind vLLM, Ollama, TGI, OpenAI, Mistral).
_NO_IMAGES = re.compile(
    r'image input is not supported|does not support (image|vision|multimodal)|'
    r'(images?|vision|multimodal)( input)? (is |are )?not supported|not a multimodal model|'
    r'multimodal (is )?disabled|no (vision|multimodal) (projector|support)|'
    r'(cannot|can\'t) (accept|process|handle) images?|image_url.*not supported', re.I)


@dataclass(frozen=True)
class Detection:
    """What `detect` concluded: the dialect, the evidence, and the models listed."""

    dialect: Dialect
    evidence: str
    models: tuple[str, ...] = ()


def _listing(body: bytes) -> tuple[dict | None, list[dict]]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None, []
    if not isinstance(data, dict):
        return None, []
    items = data.get('data')
    return data, [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def model_ids(body: bytes) -> tuple[str, ...]:
    """Model ids of a /v1/models reply; () when it lists none or is not such a list."""
    _, items = _listing(body)
    return tuple(i['id'] for i in items if isinstance(i.get('id'), str))


def detect(models_body: bytes | None, headers: Mapping[str, str] | None = None,
           info_body: bytes | None = None) -> Detection:
    """The dialect of a server from its `/v1/models` reply (None: it has none), the reply's
    headers, and, for a server without one, its `/info` reply (TGI's)."""
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    data, items = _listing(models_body or b'')
    ids = tuple(i['id'] for i in items if isinstance(i.get('id'), str))
    owners = {str(i.get('owned_by', '')) for i in items}

    def found(name: str, evidence: str) -> Detection:
        return Detection(DIALECTS[name], evidence, ids)

    if 'llamacpp' in owners or headers.get('server', '').lower() == 'llama.cpp':
        return found('llama_cpp', 'owned_by "llamacpp" in /v1/models')
    if 'vllm' in owners or any('max_model_len' in i for i in items):
        return found('vllm', 'owned_by "vllm" in /v1/models')
    if 'mistralai' in owners or any(isinstance(i.get('capabilities'), dict) for i in items):
        return found('mistral', 'owned_by "mistralai" in /v1/models')
    if 'library' in owners or 'ollama' in headers.get('server', '').lower():
        return found('ollama', 'owned_by "library" in /v1/models')
    if 'me' in owners and 'uvicorn' in headers.get('server', '').lower():
        return found('llama_cpp_python', 'owned_by "me" from a uvicorn server in /v1/models')
    if 'text-generation-inference' in headers.get('server', '').lower() or \
            (ids and all(i.get('owned_by') == i.get('id') for i in items)):
        return found('tgi', 'owned_by equals the model id in /v1/models')
    if info_body is not None:
        info, _ = _listing(info_body)
        if info is not None and ('max_total_tokens' in info or
                                 info.get('router') == 'text-generation-router'):
            return found('tgi', 'a TGI /info reply')
    return found('openai', 'nothing server-specific in /v1/models'
                 if models_body is not None else 'no /v1/models')


def dialect(name: str) -> Dialect:
    """The dialect called `name`; ValueError lists the known ones."""
    try:
        return DIALECTS[name]
    except KeyError:
        raise ValueError(f'unknown remote dialect {name!r}; known: {", ".join(NAMES)}'
                         ) from None


def refuses_images(status: int, message: str) -> bool:
    """Whether an error reply says the server cannot take images."""
    return 400 <= status < 600 and bool(_NO_IMAGES.search(message))


def user_content(text: str, image_url: str | None) -> str | list[dict[str, Any]]:
    """The user message content: a plain string without an image, parts with one."""
    if image_url is None:
        return text
    return [{'type': 'image_url', 'image_url': {'url': image_url}},
            {'type': 'text', 'text': text}]


def request_form(body: dict) -> dict[str, Any]:
    """What matters of a chat request's form: where the schema went, the content form, the
    model, the seed field. Recorded exchanges are replayed against it."""
    response_format = body.get('response_format')
    content = body.get('messages', [{}])[-1].get('content')
    parts = [p.get('type') for p in content] if isinstance(content, list) else []
    return {
        'structured': 'grammar' if 'grammar' in body else
        f'response_format:{response_format.get("type")}'
        + (':value' if 'value' in response_format else ':schema' if 'schema' in response_format
           else ':json_schema' if 'json_schema' in response_format else '')
        if isinstance(response_format, dict) else 'none',
        'content': 'parts' if isinstance(content, list) else type(content).__name__,
        'image': 'image_url' in parts,
        'model': body.get('model'),
        'seed_field': next((k for k in ('seed', 'random_seed') if k in body), None),
    }
