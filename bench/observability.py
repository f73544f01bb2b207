"""What does observability cost? All off vs production vs 100 % sampling vs a bare WSGI app.

    .venv/bin/python -m bench.observability [--rounds 6] [--seconds 4] [--connections 4]
                                            [--only "lead list" "lead create" ...]
                                            [--before REV]

Before and after a change, in one run (the old code is served from a temporary git worktree
of REV, with this checkout's venv; the new code is the working tree):

    .venv/bin/python -m bench.observability --before c63a06a --rounds 6 --seconds 4

One gunicorn per configuration (2 sync workers, PostgreSQL with demo leads), all served at
once; each endpoint is warmed up, then driven with wrk on loopback in rounds of every
configuration in rotating order, runs seconds apart (bench/harness.py). Telemetry goes
to a local sink (OTLP/HTTP and Sentry envelopes answered 200 and thrown away), so exporting
costs what it costs but no collector's CPU is counted. Reported: medians over rounds,
p50/p95/p99, server CPU per request, RSS per worker, and ratios computed pair by pair
against "off". Then, per lead endpoint and per tree (the working tree, and REV with --before,
whose configurations are named off@REV, production@REV, sampled-100%@REV): throughput
"production ÷ off" and "100 % ÷ off", each against its own tree's off, round by round, and
the server CPU ms added per request (production - off, 100 % - off), as medians with the
min..max over rounds.
"""

import contextlib
import gzip
import http.server
import re
import statistics
import threading
import zlib
from pathlib import Path

from bench import harness, worktree

ROOT = Path(__file__).resolve().parent.parent
CREATE_SCRIPT = ROOT / "bench" / "create_lead.lua"


# The issue's targets: throughput with observability ÷ without, medians of per-round ratios.
TARGETS = {"production": 0.90, "sampled-100%": 0.82}

_spans_received = 0
_spans_lock = threading.Lock()


def spans_received() -> int:
    """OTLP spans the sink has received so far, when started with count_spans=True."""
    with _spans_lock:
        return _spans_received


def _count_spans(body: bytes, encoding: str) -> int:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    if encoding == "gzip":
        body = gzip.decompress(body)
    elif encoding == "deflate":
        body = zlib.decompress(body)
    request = ExportTraceServiceRequest.FromString(body)
    return sum(
        len(scope.spans) for resource in request.resource_spans for scope in resource.scope_spans
    )


def start_sink(*, count_spans: bool = False) -> int:
    """A local OTLP/HTTP and Sentry endpoint that answers 200 and throws the data away; with
    `count_spans`, it first counts the OTLP spans (spans_received()), before answering, so
    they are counted when the exporter's force_flush() returns."""

    class Sink(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if count_spans and self.path.endswith("/v1/traces"):
                spans = _count_spans(body, self.headers.get("Content-Encoding", ""))
                global _spans_received
                with _spans_lock:
                    _spans_received += spans
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
        "SENTRY_TRACES_SAMPLE_RATE": "0.1",  # the production default, as a transaction rate
    }
    return {
        "off": {
            "METRICS_ENABLED": "false",
            "OTEL_ENABLED": "false",
            "SENTRY_ENABLED": "false",
            "LOG_LEVEL": "WARNING",  # no access lines
        },
        "production": production,
        # Every request traced, in OTel and as a Sentry transaction.
        "sampled-100%": {
            **production,
            "OTEL_TRACES_SAMPLER_ARG": "1.0",
            "SENTRY_TRACES_SAMPLE_RATE": "1.0",
        },
    }


def _spread(values: list[float], digits: int) -> str:
    """median (min..max)"""
    return (
        f"{statistics.median(values):.{digits}f} "
        f"({min(values):.{digits}f}..{max(values):.{digits}f})"
    )


def before_after(report: dict, endpoints: list[str], trees: dict[str, str]) -> list[dict]:
    """Per endpoint and tree (label → configuration-name suffix): production ÷ off and
    100 % ÷ off in throughput, and CPU ms added per request, round by round against the
    same tree's off; printed as median (min..max over rounds) and returned."""
    rows = []
    print(
        f"\n{'endpoint':14} {'tree':18} {'req/s production ÷ off':>26} {'req/s 100% ÷ off':>26} "
        f"{'CPU ms/req added, prod':>22} {'added, 100%':>22}"
    )
    for endpoint in endpoints:
        for label, suffix in trees.items():
            off = harness.per_round(report, f"off{suffix}", endpoint)
            if not off:
                continue
            row = {"endpoint": endpoint, "tree": label}
            cells = []
            for config in TARGETS:
                runs = harness.per_round(report, f"{config}{suffix}", endpoint)
                pairs = list(zip(off, runs, strict=True))
                ratios = [run["rps"] / base["rps"] for base, run in pairs]
                added = [
                    run["cpu_ms_per_request"] - base["cpu_ms_per_request"] for base, run in pairs
                ]
                ratio = statistics.median(ratios)
                row[config] = {
                    "rps_ratio_per_round": ratios,
                    "rps_ratio": ratio,
                    "target": TARGETS[config],
                    "met": ratio >= TARGETS[config],
                    "cpu_ms_added_per_round": added,
                    "cpu_ms_added": statistics.median(added),
                }
                mark = "ok" if ratio >= TARGETS[config] else "<" + f"{TARGETS[config]:.2f}"
                cells.append(f"{_spread(ratios, 3)} {mark:>5}")
            for config in TARGETS:
                cells.append(_spread(row[config]["cpu_ms_added_per_round"], 2))
            rows.append(row)
            widths = (26, 26, 22, 22)
            print(
                f"{endpoint:14} {label:18} "
                + " ".join(f"{cell:>{width}}" for cell, width in zip(cells, widths, strict=True))
            )
    print("median (min..max over rounds); ok / <target: the median against the issue's target")
    return rows


def main() -> None:
    args = harness.comparison_arguments(__doc__, only=(str, []), before=(str, None))
    endpoints = {
        **harness.lead_endpoints(harness.prepare_database(), CREATE_SCRIPT),
        "/health/ping": harness.Endpoint("/health/ping"),
        "/health/ready": harness.Endpoint("/health/ready"),
        "/metrics": harness.Endpoint("/metrics", {"Authorization": "Bearer bench-token"}),
    }
    if args.only:  # e.g. --only "lead list" "lead create"
        endpoints = {name: spec for name, spec in endpoints.items() if name in args.only}
    named = configurations(start_sink())
    configs = {name: harness.Configuration(env) for name, env in named.items()}
    configs["bare wsgi"] = harness.Configuration(
        configs["off"].env, app="bench.hello_wsgi:application", paths={"/health/ping": "/"}
    )
    trees = {"working tree": ""}
    name = f"observability-c{args.connections}"
    with contextlib.ExitStack() as stack:
        if args.before:
            # The same environment for the old code: variables it does not know it ignores.
            source = stack.enter_context(worktree.worktree(args.before))
            suffix = f"@{args.before}"
            trees[f"before {args.before}"] = suffix
            safe = re.sub(r"[^\w.~^-]", "_", args.before)  # e.g. origin/main
            name = f"observability-before-{safe}-c{args.connections}"
            for config_name in TARGETS.keys() | {"off"}:
                configs[config_name + suffix] = harness.Configuration(
                    named[config_name], source=source
                )
            configs = {  # each tree's off, production, 100 % together; bare wsgi last
                key: configs[key]
                for key in [f"{c}{s}" for s in trees.values() for c in named] + ["bare wsgi"]
            }
        report = harness.compare(configs, endpoints, args, baseline="off", name=name)
    leads = [endpoint for endpoint in endpoints if endpoint.startswith("lead ")]
    report["before_after"] = before_after(report, leads, trees)
    if args.before:
        report["before"] = args.before
    print("saved", harness.save(report, name).relative_to(ROOT))


if __name__ == "__main__":
    main()
