"""A local OTLP/HTTP receiver for tests: the real exporter sends real protobuf to it."""

import http.server
import threading
from contextlib import contextmanager

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from tests.servers import serving


class ReceivedSpans:
    def __init__(self):
        self.requests: list[ExportTraceServiceRequest] = []
        self.lock = threading.Lock()

    def spans(self) -> list[tuple[dict, object]]:
        """(resource attributes, span) for every span received so far."""
        return [(resource, span) for resource, _, span in self.scoped_spans()]

    def scoped_spans(self) -> list[tuple[dict, str, object]]:
        """(resource attributes, instrumentation scope name, span) for every span so far."""
        found = []
        with self.lock:
            for request in self.requests:
                for resource_spans in request.resource_spans:
                    resource = {
                        kv.key: kv.value.string_value or kv.value.int_value
                        for kv in resource_spans.resource.attributes
                    }
                    for scope_spans in resource_spans.scope_spans:
                        scope = scope_spans.scope.name
                        found += [(resource, scope, span) for span in scope_spans.spans]
        return found


@contextmanager
def otlp_receiver():
    """Yield (endpoint, ReceivedSpans) for an OTLP/HTTP receiver on a free loopback port."""
    received = ReceivedSpans()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.path == "/v1/traces":
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                with received.lock:
                    received.requests.append(request)
            payload = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    with serving(Handler) as port:
        yield f"http://127.0.0.1:{port}", received
