"""A TCP relay on 127.0.0.1 in front of moto's S3 server, which goes down in the middle of a
transfer: after a given number of bytes in one direction it resets every open connection and
stops listening, as a stopped or unreachable server would. `start()` brings it back on the same
port, with moto's objects intact, for the retry."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading

CHUNK = 64 * 1024


class Relay:
    def __init__(self, target_port: int):
        self.target = ("127.0.0.1", target_port)
        self.port = 0
        self.lock = threading.Lock()
        self.down_event = threading.Event()
        self.listener: socket.socket | None = None
        self.open: list[socket.socket] = []
        self.cut_after: int | None = None
        self.watched = "upload"
        self.moved = 0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, cut_after: int | None = None, watched: str = "upload") -> str:
        """Listen (on the same port as before, if any). With ``cut_after``, go down once that
        many bytes went client to server (``upload``) or server to client (``download``)."""
        assert watched in ("upload", "download")
        self.cut_after, self.watched, self.moved = cut_after, watched, 0
        self.down_event.clear()
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.port = self.listener.getsockname()[1]
        self.listener.listen(64)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()
        return self.endpoint

    def down(self) -> None:
        """Refuse new connections and reset the open ones (RST, not a clean close)."""
        with self.lock:
            if self.down_event.is_set():
                return
            self.down_event.set()
            conns, self.open = self.open, []
        if self.listener is not None:
            _close(self.listener, reset=False)
        for conn in conns:
            _close(conn, reset=True)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # the listener is closed: the relay is down
            try:
                server = socket.create_connection(self.target)
            except OSError:
                _close(client, reset=True)
                continue
            with self.lock:
                if self.down_event.is_set():
                    _close(client, reset=True)
                    _close(server, reset=True)
                    return
                self.open += [client, server]
            for src, dst, direction in ((client, server, "upload"), (server, client, "download")):
                args = (src, dst, direction)
                threading.Thread(target=self._pump, args=args, daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, direction: str) -> None:
        while True:
            try:
                data = src.recv(CHUNK)
            except OSError:
                return
            if not data:
                with contextlib.suppress(OSError):
                    dst.shutdown(socket.SHUT_WR)
                return
            if self.cut_after is not None and direction == self.watched:
                with self.lock:
                    self.moved += len(data)
                    over = self.moved >= self.cut_after
                if over:
                    self.down()
                    return
            try:
                dst.sendall(data)
            except OSError:
                return


def _close(sock: socket.socket, reset: bool) -> None:
    """Close ``sock`` and wake any thread blocked on it; with ``reset``, the peer gets a RST."""
    with contextlib.suppress(OSError):
        if reset:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.shutdown(socket.SHUT_RD)
        else:
            sock.shutdown(socket.SHUT_RDWR)
    sock.close()
