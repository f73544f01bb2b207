"""A local Sentry ingest endpoint: the real SDK in a real server process sends real envelopes.

The capturing transport of tests/observability works inside the test process only; an app
under gunicorn needs a DSN whose host answers over HTTP. `sentry_ingest()` is that host.
"""

import gzip
import http.server
import json
import threading
import zlib
from contextlib import contextmanager

from tests.servers import serving


class ReceivedEnvelopes:
    def __init__(self):
        self.items: list[tuple[dict, bytes]] = []  # (item header, payload)
        self.lock = threading.Lock()

    def events(self) -> list[dict]:
        return self.of_type("event")

    def transactions(self) -> list[dict]:
        """Performance monitoring's items (SENTRY_TRACES_SAMPLE_RATE)."""
        return self.of_type("transaction")

    def of_type(self, item_type: str) -> list[dict]:
        with self.lock:
            return [json.loads(payload) for header, payload in self.items
                    if header.get("type") == item_type]  # fmt: skip


def parse_envelope(body: bytes) -> list[tuple[dict, bytes]]:
    """Items of a Sentry envelope: a header line, then (item header line, payload) pairs."""
    _, _, rest = body.partition(b"\n")
    items = []
    while rest.strip():
        header_line, _, rest = rest.partition(b"\n")
        header = json.loads(header_line)
        if "length" in header:
            payload, rest = rest[: header["length"]], rest[header["length"] :]
            rest = rest.removeprefix(b"\n")
        else:
            payload, _, rest = rest.partition(b"\n")
        items.append((header, payload))
    return items


def _decode(body: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    if encoding == "br":
        import brotli  # only when the SDK found it installed

        return brotli.decompress(body)
    return body


@contextmanager
def sentry_ingest():
    """Yield (dsn, ReceivedEnvelopes) for an ingest endpoint on a free loopback port."""
    received = ReceivedEnvelopes()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            body = _decode(body, self.headers.get("Content-Encoding", ""))
            if self.path.endswith("/envelope/"):
                with received.lock:
                    received.items += parse_envelope(body)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    with serving(Handler) as port:
        yield f"http://public@127.0.0.1:{port}/1", received
