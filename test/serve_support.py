"""A real `ChatServer` around the tiny test models on 127.0.0.1, and plain HTTP helpers."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from engine_models import model

from ministral_node.engine.engine import EngineOptions, VisionLanguageEngine
from ministral_node.ground.server import ChatServer, Faults, ServeOptions


@cache
def engine(name: str = 'deterministic') -> VisionLanguageEngine:
    """A loaded test engine, shared by the session (the server runs one request at a time)."""
    return VisionLanguageEngine.load(model(name), EngineOptions(providers=('cpu',)))


@contextmanager
def running(engine_: VisionLanguageEngine | None, options: ServeOptions | None = None,
            faults: Faults | None = None) -> Iterator[ChatServer]:
    """A started server on an ephemeral loopback port, stopped afterwards."""
    server = ChatServer(('127.0.0.1', 0), engine_, options or ServeOptions(queue_wait_s=5.0),
                        faults)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def call(url: str, method: str, path: str, body: Any = None,
         headers: dict[str, str] | None = None, timeout: float = 10.0
         ) -> tuple[int, http.client.HTTPMessage, Any]:
    """(status, headers, parsed JSON or raw bytes) of one request to `url` + `path`."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        connection.request(method, path, data, {'Content-Type': 'application/json',
                                                **(headers or {})})
        response = connection.getresponse()
        raw = response.read()
    finally:
        connection.close()
    try:
        return response.status, response.headers, json.loads(raw)
    except ValueError:
        return response.status, response.headers, raw
