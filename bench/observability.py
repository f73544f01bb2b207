"""What does observability cost? All off vs production vs 100 % sampling vs a bare WSGI app.

    .venv/bin/python -m bench.observability [--rounds 3] [--seconds 6] [--connections 4]

Each round starts gunicorn (2 sync workers, PostgreSQL with demo leads) once per configuration,
in rotating order, warms each endpoint up and drives it with wrk on loopback. Telemetry goes
to a local sink (OTLP/HTTP and Sentry envelopes answered 200 and thrown away), so exporting
costs what it costs but no collector's CPU is counted. Reported: medians over rounds,
p50/p95/p99, server CPU per request, RSS per worker, and ratios computed pair by pair
against "off".
"""

import argparse
import http.server
import json
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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--connections", type=int, default=4)
    args = parser.parse_args()

    token = harness.prepare_database()
    api = {"Authorization": f"Token {token}"}
    lead_id = harness.some_lead_id()
    endpoints = {
        "lead list": ("/api/v1/leads/?page_size=50", api, None),
        "lead create": ("/api/v1/leads/", api, CREATE_SCRIPT),
        "lead retrieve": (f"/api/v1/leads/{lead_id}/", api, None),
        "/health/ping": ("/health/ping", {}, None),
        "/health/ready": ("/health/ready", {}, None),
        "/metrics": ("/metrics", {"Authorization": "Bearer bench-token"}, None),
    }
    configs = configurations(start_sink())
    names = list(configs)
    samples: dict[tuple[str, str], list] = {}
    rss: dict[str, list[int]] = {name: [] for name in [*names, "bare wsgi"]}
    for round_number in range(args.rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            with harness.serve(configs[name], ready_path="/health/ping") as server:
                for endpoint, (path, headers, script) in endpoints.items():
                    common = {"headers": headers, "script": script, "connections": args.connections}
                    harness.load(server, path, seconds=2, **common)
                    sample = harness.load(server, path, seconds=args.seconds, **common)
                    samples.setdefault((name, endpoint), []).append(sample)
                    print(f"round {round_number + 1} {name:13} {endpoint:14} {sample}", flush=True)
                rss[name] += server.rss_bytes()
        with harness.serve(
            configs["off"], ready_path="/", app="bench.hello_wsgi:application"
        ) as server:
            harness.load(server, "/", seconds=2, connections=args.connections)
            sample = harness.load(server, "/", seconds=args.seconds, connections=args.connections)
            samples.setdefault(("bare wsgi", "/health/ping"), []).append(sample)
            rss["bare wsgi"] += server.rss_bytes()
            print(f"round {round_number + 1} bare wsgi     /              {sample}", flush=True)

    report = {
        "rounds": args.rounds,
        "seconds": args.seconds,
        "connections": args.connections,
        "rows": [],
        "rss_mib_per_worker": {},
    }
    print(
        f"\n{'endpoint':14} {'config':13} {'req/s':>7} {'p50':>6} {'p95':>6} {'p99':>6} "
        f"{'cpu ms':>7} {'rps/off':>8} {'p95/off':>8} {'p95-off':>8}"
    )
    for endpoint in endpoints:
        base = samples[("off", endpoint)]
        for name in [*names, "bare wsgi"]:
            runs = samples.get((name, endpoint))
            if not runs:
                continue
            row = {
                "endpoint": endpoint,
                "config": name,
                **{
                    f: harness.median(runs, f)
                    for f in ("rps", "p50_ms", "p95_ms", "p99_ms", "cpu_ms_per_request")
                },
                "rps_ratio": harness.pairwise_ratio(base, runs, "rps"),
                "p95_ratio": harness.pairwise_ratio(base, runs, "p95_ms"),
                "p95_added_ms": harness.median(runs, "p95_ms") - harness.median(base, "p95_ms"),
            }
            report["rows"].append(row)
            print(
                f"{endpoint:14} {name:13} {row['rps']:7.0f} {row['p50_ms']:6.1f} "
                f"{row['p95_ms']:6.1f} {row['p99_ms']:6.1f} {row['cpu_ms_per_request']:7.2f} "
                f"{row['rps_ratio']:8.3f} {row['p95_ratio']:8.3f} {row['p95_added_ms']:8.2f}"
            )
    for name, sizes in rss.items():
        if sizes:
            report["rss_mib_per_worker"][name] = round(sorted(sizes)[len(sizes) // 2] / 2**20, 1)
    print("RSS MiB per worker (median):", report["rss_mib_per_worker"])
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "observability.json").write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
