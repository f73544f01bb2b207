"""What does observability cost? All off vs production vs 100 % sampling vs a bare WSGI app.

    .venv/bin/python -m bench.observability [--rounds 6] [--seconds 4] [--connections 4]
                                            [--only "lead list" "lead create" ...]

One gunicorn per configuration (2 sync workers, PostgreSQL with demo leads), all served at
once; each endpoint is warmed up, then driven with wrk on loopback in rounds of every
configuration in rotating order, runs seconds apart (bench/harness.py). Telemetry goes
to a local sink (OTLP/HTTP and Sentry envelopes answered 200 and thrown away), so exporting
costs what it costs but no collector's CPU is counted. Reported: medians over rounds,
p50/p95/p99, server CPU per request, RSS per worker, and ratios computed pair by pair
against "off".
"""

import http.server
import threading
from pathlib import Path

from bench import harness

ROOT = Path(__file__).resolve().parent.parent
CREATE_SCRIPT = ROOT / "bench" / "create_lead.lua"


def start_sink() -> int:
    class Sink(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1]


def configurations(sink_port: int) -> dict[str, dict]:
    production = {
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        "METRICS_ENABLED": "true",
        "METRICS_TOKEN": "bench-token",
        "OTEL_ENABLED": "true",
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{sink_port}",
        "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
        "OTEL_TRACES_SAMPLER_ARG": "0.1",
        "SENTRY_ENABLED": "true",
        "SENTRY_DSN": f"http://public@127.0.0.1:{sink_port}/1",
    }
    return {
        "off": {
            "METRICS_ENABLED": "false",
            "OTEL_ENABLED": "false",
            "SENTRY_ENABLED": "false",
            "LOG_LEVEL": "WARNING",  # no access lines
        },
        "production": production,
        "sampled-100%": {**production, "OTEL_TRACES_SAMPLER_ARG": "1.0"},
    }


def main() -> None:
    args = harness.comparison_arguments(__doc__, only=(str, []))
    endpoints = {
        **harness.lead_endpoints(harness.prepare_database(), CREATE_SCRIPT),
        "/health/ping": harness.Endpoint("/health/ping"),
        "/health/ready": harness.Endpoint("/health/ready"),
        "/metrics": harness.Endpoint("/metrics", {"Authorization": "Bearer bench-token"}),
    }
    if args.only:  # e.g. --only "lead list" "lead create"
        endpoints = {name: spec for name, spec in endpoints.items() if name in args.only}
    configs = {
        name: harness.Configuration(env) for name, env in configurations(start_sink()).items()
    }
    configs["bare wsgi"] = harness.Configuration(
        configs["off"].env, app="bench.hello_wsgi:application", paths={"/health/ping": "/"}
    )
    harness.compare(
        configs,
        endpoints,
        args,
        baseline="off",
        name=f"observability-c{args.connections}",
    )


if __name__ == "__main__":
    main()
