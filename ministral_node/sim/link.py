"""A TCP relay in front of the remote model endpoint, so a scenario can take it down.

    relay = FaultyRelay('127.0.0.1', 8000)   # the real endpoint
    relay.start()                            # listens on 127.0.0.1:<relay.port>
    relay.down = True                        # new and open connections are cut
    relay.close()

The node's `remote_url` points at the relay; while `down`, connections are accepted and closed
at once (the endpoint looks crashed: no HTTP answer), and open ones are cut.
"""

from __future__ import annotations

import socket
import threading


class FaultyRelay:
    """Forwards TCP connections from 127.0.0.1:port to (host, port) unless `down`."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.down = False
        self.connections = 0
        self.refused = 0
        self._server = socket.create_server(('127.0.0.1', 0))
        self.port = self._server.getsockname()[1]
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = False

    @property
    def url(self) -> str:
        return f'http://127.0.0.1:{self.port}'

    def start(self) -> FaultyRelay:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def set_down(self, down: bool) -> None:
        """Take the endpoint down (cutting open connections) or bring it back."""
        self.down = down
        if down:
            with self._lock:
                for sock in list(self._open):
                    _close(sock)
                self._open.clear()

    def close(self) -> None:
        self._closed = True
        _close(self._server)
        self.set_down(True)

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            if self.down:
                self.refused += 1
                _close(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5.0)
            except OSError:
                self.refused += 1
                _close(client)
                continue
            self.connections += 1
            with self._lock:
                self._open.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data or self.down:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._open.discard(source)
                self._open.discard(sink)
            _close(source)
            _close(sink)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
