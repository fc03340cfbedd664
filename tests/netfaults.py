"""Network faults on loopback for the BigQuery tests: a server that accepts and never answers,
and a relay in front of a real server that can go silent or die (optionally when it sees a
given request)."""

from __future__ import annotations

import socket
import threading


class SilentServer:
    """Accepts TCP connections on loopback and never sends a byte."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.conns: list[socket.socket] = []
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)

    def close(self):
        self.closed = True
        self.sock.close()
        for c in self.conns:
            c.close()


class Relay:
    """A loopback TCP relay to `target`; `silence()` stops passing bytes (connections stay open),
    `kill()` closes every connection and the listening socket (the server died)."""

    def __init__(self, target_port: int, kill_when=None):
        self.target_port = target_port
        self.kill_when = kill_when  # kill_when(bytes from the client) -> True: die instead of passing them
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.silent = threading.Event()
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            self.conns += [client, upstream]
            for a, b, up in ((client, upstream, True), (upstream, client, False)):
                threading.Thread(target=self._pipe, args=(a, b, up), daemon=True).start()

    def _pipe(self, src, dst, from_client=False):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if from_client and self.kill_when is not None and self.kill_when(data):
                    self.kill()
                    return
                if self.silent.is_set():
                    continue  # swallowed: the server has gone silent
                dst.sendall(data)
        except OSError:
            pass

    def silence(self):
        self.silent.set()

    def kill(self):
        self.silent.set()
        try:
            self.sock.close()
        finally:
            for c in self.conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                c.close()


def closed_port() -> int:
    """A loopback port nothing listens on."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
