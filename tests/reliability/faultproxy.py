"""A TCP proxy between the app and PostgreSQL that a test can cut, stall and restore.

The shared PostgreSQL server is never touched: faults happen on the wire, as a network or a
failed-over server would cause them.

- `cut()`: every connection is reset and new ones are reset as soon as they arrive
  (the client sees "server closed the connection unexpectedly" at once).
- `stall()`: nothing is forwarded any more, in either direction, and new connections are
  accepted but never answered (a hung server or a black-holed network: TCP stays up, so
  neither keepalives nor tcp_user_timeout notice).
- `restore()`: new connections are forwarded again; connections that lived through a stall
  or a cut are reset, as a restarted server or a NAT that forgot them would.

Stdlib only: one accepting thread and two pump threads per connection.
"""

import contextlib
import socket
import struct
import threading

OPEN, CUT, STALLED = "open", "cut", "stalled"
_POLL_SECONDS = 0.05


def _reset(sock: socket.socket) -> None:
    """Close with RST (linger 0), not FIN; ignore sockets that are gone already."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


class _Link:
    """One client connection and, unless it arrived during a stall, its upstream connection."""

    def __init__(self, client: socket.socket, upstream: socket.socket | None):
        self.client, self.upstream = client, upstream
        self.closed = threading.Event()
        self.faulted = upstream is None  # reset at restore

    def close(self) -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        _reset(self.client)
        if self.upstream is not None:
            _reset(self.upstream)


class FaultProxy:
    def __init__(self, upstream: tuple[str, int] = ("127.0.0.1", 5432)):
        self.upstream = upstream
        self.mode = OPEN
        self._links: set[_Link] = set()
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        self._listener.settimeout(_POLL_SECONDS)
        self.port = self._listener.getsockname()[1]
        self._stopping = threading.Event()
        self._acceptor = threading.Thread(target=self._accept_loop, daemon=True)

    # --- control -------------------------------------------------------------------------

    def start(self) -> "FaultProxy":
        self._acceptor.start()
        return self

    def cut(self) -> None:
        with self._lock:
            self.mode = CUT
            links, self._links = list(self._links), set()
        for link in links:
            link.close()

    def stall(self) -> None:
        with self._lock:
            self.mode = STALLED
            for link in self._links:
                link.faulted = True

    def restore(self) -> None:
        with self._lock:
            self.mode = OPEN
            faulted = [link for link in self._links if link.faulted]
            self._links.difference_update(faulted)
        for link in faulted:
            link.close()

    def stop(self) -> None:
        self._stopping.set()
        self._acceptor.join(timeout=2)
        self._listener.close()
        self.cut()

    @property
    def connections(self) -> int:
        with self._lock:
            return len(self._links)

    def __enter__(self) -> "FaultProxy":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # --- plumbing ------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            mode = self.mode
            if mode == CUT:
                _reset(client)
                continue
            upstream = None
            if mode == OPEN:
                try:
                    upstream = socket.create_connection(self.upstream, timeout=2)
                except OSError:
                    _reset(client)
                    continue
            link = _Link(client, upstream)
            with self._lock:
                if self.mode != mode:  # a fault arrived meanwhile: apply it to this one too
                    link.close()
                    continue
                self._links.add(link)
            if upstream is not None:
                for source, target in ((client, upstream), (upstream, client)):
                    threading.Thread(
                        target=self._pump, args=(link, source, target), daemon=True
                    ).start()

    def _pump(self, link: _Link, source: socket.socket, target: socket.socket) -> None:
        source.settimeout(_POLL_SECONDS)
        while not link.closed.is_set():
            try:
                data = source.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
            if not data:
                break
            # A stalled link holds what it read until it is restored (then reset) or cut.
            while link.faulted and not link.closed.is_set():
                link.closed.wait(_POLL_SECONDS)
            if link.closed.is_set():
                return
            try:
                target.sendall(data)
            except OSError:
                break
        with self._lock:
            self._links.discard(link)
        link.close()
