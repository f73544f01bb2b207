"""What each observability piece costs, in CPU instructions per request (valgrind's callgrind).

    .venv/bin/python -m bench.instructions [--requests 40] [--endpoints list create retrieve]
                                           [--configurations off +metrics ...]

The cost of one span (2 configurations, 3 endpoints: about 6 minutes):

    .venv/bin/python -m bench.instructions --configurations "+tracing 0%" "+tracing 100%"

Throughput ratios from wrk move with everything else the machine does; on a shared VM a
configuration's throughput drifted 2x between rounds. An instruction count does not: the same
code, inputs and environment give the same count (within 0.5 % here, run after run), whatever
else the machine is doing. So this bench attributes the cost piece by piece, deterministically,
beside `bench.observability`'s wrk figures, which remain the measure of throughput and latency.

For each configuration and endpoint a fresh process runs the WSGI application in-process under
callgrind, without a server or sockets of its own: it warms up, then the counters are zeroed,
`--requests` requests run, every queued span is exported (to the bench's local OTLP sink, as in
bench.observability), and the counters are dumped. All threads count, so the span export thread
is included. PostgreSQL's own work is not (it is another process). One export at the end for
all the requests' spans: the OTLP POST's fixed cost is spread over fewer spans than the
default 512-span batches, so tracing figures lean high.

The sink counts the OTLP spans it receives during the measured requests (in the parent
process, so counting costs the measured one nothing): spans per request. Per span, for each
endpoint: (instructions per request at "+tracing 100%" - at "+tracing 0%") ÷ spans per request
at 100 %, i.e. everything a recorded span costs beyond what every request pays (creating,
ending, the per-query SQL work of database spans, scrubbing, batching, OTLP encoding and the
POST); and, in the production configuration, (sampled-100% - production) ÷ (sampled-100%'s
spans per request - production's). Each needs both of its configurations in --configurations
(the default runs all). Keep --requests at 40 or more: the one export's fixed cost is shared
by the measured requests' spans.

Needs valgrind (`apt-get install valgrind`). About a minute per configuration and endpoint.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import observability.multiprocess as metric_files
from bench import harness, observability

# Each piece alone on top of "off" (variable-name prefixes of bench.observability's production
# configuration), then all together.
PIECES = {
    "+metrics": ("METRICS_",),
    "+json logs": ("LOG_",),
    "+sentry": ("SENTRY_",),
    "+tracing 10%": ("OTEL_",),
}


# Per-span cost: (instructions per request of the second - of the first) ÷ (spans per request
# of the second - of the first); the first records none at 0 %.
SPAN_PAIRS = (("+tracing 0%", "+tracing 100%"), ("production", "sampled-100%"))


def configurations(sink_port: int) -> dict[str, dict]:
    named = observability.configurations(sink_port)
    off, production, sampled = named["off"], named["production"], named["sampled-100%"]

    def piece(source: dict, prefixes: tuple[str, ...]) -> dict:
        return {**off, **{key: value for key, value in source.items() if key.startswith(prefixes)}}

    return {
        "off": off,
        **{name: piece(production, prefixes) for name, prefixes in PIECES.items()},
        # What every request pays, sampled or not: context, ids, the sampler's decision.
        "+tracing 0%": {
            **piece(production, PIECES["+tracing 10%"]),
            "OTEL_TRACES_SAMPLER": "parentbased_always_off",
        },
        "+tracing 100%": piece(sampled, PIECES["+tracing 10%"]),
        "production": production,
        "sampled-100%": sampled,
    }


def child(token: str, lead_id: str, endpoint: str, requests: int) -> None:
    """In the measured process: warm up, then run `requests` between two handshakes."""
    import random
    import uuid

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "intelliflow.settings")
    from django.test import RequestFactory
    from opentelemetry import trace

    from intelliflow.wsgi import application

    factory = RequestFactory(
        SERVER_NAME="127.0.0.1",
        HTTP_HOST="127.0.0.1",
        HTTP_USER_AGENT="bench",
        HTTP_AUTHORIZATION=f"Token {token}",
    )
    prefix = uuid.uuid4().hex[:12]

    def environ(number: int) -> dict:
        """The WSGI environ of one request, as a server would pass it."""
        if endpoint == "list":
            return factory.get("/api/v1/leads/", {"page_size": 50}).environ
        if endpoint == "retrieve":
            return factory.get(f"/api/v1/leads/{lead_id}/").environ
        email = f"i{prefix}-{number}@bench.example"  # reset_dataset() deletes these
        body = {"first_name": "Bench", "last_name": "Lead", "email": email, "source": "web"}
        return factory.post("/api/v1/leads/", body, content_type="application/json").environ

    # Built before the counters start: only the application's work is measured.
    warm_up = [environ(number) for number in range(30)]
    measured = [environ(number) for number in range(30, 30 + requests)]

    def call(request_environ: dict) -> None:
        statuses = []
        body = application(
            request_environ, lambda status, headers, exc_info=None: statuses.append(status)
        )
        for _ in body:
            pass
        body.close()
        if not statuses[0].startswith("2"):
            raise SystemExit(f"{endpoint}: {statuses[0]}")

    def export_all() -> None:
        provider = trace.get_tracer_provider()
        if hasattr(provider, "force_flush"):
            provider.force_flush()

    for request_environ in warm_up:
        call(request_environ)
    export_all()
    print("READY", flush=True)
    sys.stdin.readline()
    # Trace ids come from `random`; seeded, the ratio sampler picks the same requests each run.
    random.seed(2026)
    for request_environ in measured:
        call(request_environ)
    export_all()
    print("DONE", flush=True)
    sys.stdin.readline()


def count(env: dict, token: str, lead_id: str, endpoint: str, requests: int) -> tuple[float, float]:
    """Instructions and OTLP spans per request of one configuration on one endpoint (spans
    as received by the sink observability.start_sink(count_spans=True) of this process)."""
    with (
        tempfile.TemporaryDirectory(prefix="callgrind-") as out,
        tempfile.TemporaryDirectory(dir=metric_files.memory_directory()) as metrics_dir,
        open(Path(out) / "stderr", "w+") as stderr,
    ):
        process = subprocess.Popen(
            [
                "valgrind",
                "--tool=callgrind",
                "--dump-instr=no",
                f"--callgrind-out-file={out}/callgrind.out.%p",
                harness.PYTHON,
                "-m",
                "bench.instructions",
                "--child",
                token,
                lead_id,
                endpoint,
                str(requests),
            ],
            cwd=harness.ROOT,
            # Multiprocess mode, as under gunicorn: every metric update writes its mmap file.
            env={**os.environ, **harness.BASE_ENV, **env, "PROMETHEUS_MULTIPROC_DIR": metrics_dir},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )

        def expect(word: str) -> None:
            for line in process.stdout:  # the app's log lines go by too
                if line.startswith(word):
                    return
            stderr.seek(0)
            raise RuntimeError(f"{endpoint}: ended before {word}:\n{stderr.read()[-2000:]}")

        def control(option: str) -> None:
            command = ["callgrind_control", option, str(process.pid)]
            subprocess.run(command, check=True, capture_output=True, timeout=60)

        try:
            expect("READY")  # the warm-up's spans exported, hence counted
            spans_before = observability.spans_received()
            control("--zero")
            process.stdin.write("\n")
            process.stdin.flush()
            expect("DONE")
            spans = observability.spans_received() - spans_before
            control("--dump")
            process.communicate("\n", timeout=120)  # reads what it still logs while exiting
        finally:
            process.kill()
        # The first dump after the zeroing holds exactly the measured requests.
        (dump,) = Path(out).glob("callgrind.out.*.1")
        total = re.search(r"^(?:summary|totals): (\d+)", dump.read_text(), re.M)
        return int(total.group(1)) / requests, spans / requests


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        token, lead_id, endpoint, requests = sys.argv[2:6]
        return child(token, lead_id, endpoint, int(requests))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--endpoints", nargs="+", default=["list", "create", "retrieve"])
    parser.add_argument("--configurations", nargs="+")
    args = parser.parse_args()
    token = harness.prepare_database()
    harness.reset_dataset()
    lead_id = harness.some_lead_id()
    configs = configurations(observability.start_sink(count_spans=True))
    names = args.configurations or list(configs)
    print(
        f"{'endpoint':9} {'configuration':15} {'M instr/req':>11} {'÷ first':>7} {'spans/req':>9}"
    )
    per_span = []
    for endpoint in args.endpoints:
        base = None
        measured = {}
        for name in names:
            per_request, spans = count(configs[name], token, lead_id, endpoint, args.requests)
            measured[name] = per_request, spans
            base = base or per_request
            ratio = per_request / base
            print(
                f"{endpoint:9} {name:15} {per_request / 1e6:11.2f} {ratio:7.3f} {spans:9.2f}",
                flush=True,
            )
        for low, high in SPAN_PAIRS:
            if low in measured and high in measured:
                spans = measured[high][1] - measured[low][1]
                added = measured[high][0] - measured[low][0]
                if spans > 0:
                    per_span.append((endpoint, low, high, added, spans))
        harness.reset_dataset()
    if per_span:
        print(
            f"\nper span: {'endpoint':9} {'configurations':32} {'+M instr/req':>12} "
            f"{'+spans/req':>10} {'K instr/span':>12}"
        )
    for endpoint, low, high, added, spans in per_span:
        pair = f"{high} - {low}"
        print(
            f"per span: {endpoint:9} {pair:32} {added / 1e6:12.2f} {spans:10.2f} "
            f"{added / spans / 1e3:12.1f}"
        )


if __name__ == "__main__":
    main()
