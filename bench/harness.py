"""Benchmark plumbing: a PostgreSQL bench database, gunicorn under test (started the way the
tests start it, tests/servers.py), wrk as the load (bench/wrk.py).

Configurations are compared side by side in one run, interleaved A/B/A/B, and reported as
medians and pair-by-pair ratios, never as absolute timings taken alone. Server CPU per
request is read from /proc for the gunicorn workers, since wrk shares the machine's cores.
"""

import argparse
import contextlib
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.wrk import Sample, load
from tests.servers import gunicorn

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
BENCH_DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/intelliflow_bench"
)
BASE_ENV = {
    "DJANGO_SECRET_KEY": "bench-only-secret-key",
    "DJANGO_DEBUG": "false",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
    "DJANGO_SECURE_SSL_REDIRECT": "false",  # wrk speaks plain HTTP (wrk counts 3xx as success)
    "DATABASE_URL": BENCH_DATABASE_URL,
    "API_THROTTLE_USER_RATE": "100000000/second",
}
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def manage(*args: str, env: dict | None = None) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args, "--verbosity", "0"],
        cwd=ROOT,
        env={**os.environ, **BASE_ENV, **(env or {})},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def prepare_database(leads: int = 3000) -> str:
    """Create and fill the bench database once; return an API token for the bench user."""
    import psycopg

    admin_url, name = BENCH_DATABASE_URL.rsplit("/", 1)
    with psycopg.connect(f"{admin_url}/postgres", autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')
    manage("migrate", "--noinput")
    script = (
        "from django.contrib.auth import get_user_model\n"
        "from rest_framework.authtoken.models import Token\n"
        "from leads.models import Lead\n"
        "user, _ = get_user_model().objects.get_or_create(username='bench')\n"
        "token, _ = Token.objects.get_or_create(user=user)\n"
        "print(token.key, Lead.objects.count())\n"
    )
    token, count = manage("shell", "-c", script).split()
    if int(count) < leads:
        manage("demo_data", "--count", str(leads - int(count)), "--seed", "1")
    reset_dataset()
    return token


def reset_dataset() -> None:
    """Drop the leads earlier create runs added (bench/create_lead.lua's @bench.example) and
    refresh the planner's statistics, so every configuration reads the same table. Without
    it the table grows run after run, and a server without autovacuum plans the list on
    statistics that say it is empty."""
    import psycopg

    with psycopg.connect(BENCH_DATABASE_URL, autocommit=True) as connection:
        connection.execute("DELETE FROM leads_lead WHERE email LIKE '%%@bench.example'")
        connection.execute("VACUUM ANALYZE leads_lead")


def some_lead_id() -> str:
    """A lead to retrieve in the benchmarks."""
    script = "from leads.models import Lead; print(Lead.objects.values_list('pk', flat=True)[0])"
    return manage("shell", "-c", script).strip()


@dataclass
class Server:
    process: subprocess.Popen
    port: int

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def cpu_seconds(self) -> float:
        """User + system CPU of the workers so far (workers are not recycled during a run)."""
        total = 0
        for pid in self.worker_pids():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / CLOCK_TICKS

    def rss_bytes(self) -> list[int]:
        sizes = []
        for pid in self.worker_pids():
            status = Path(f"/proc/{pid}/status").read_text()
            sizes.append(int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) * 1024)
        return sizes


@contextlib.contextmanager
def serve(
    env: dict,
    *,
    port: int = 8899,
    workers: int = 2,
    ready_path: str,
    app: str | None = None,
    max_requests: int = 0,
    source: Path = ROOT,
) -> Iterator[Server]:
    """gunicorn with the project's config, started by tests/servers.py gunicorn() as in the
    tests, `workers` workers (GUNICORN_THREADS in `env` for threads), no recycling unless
    `max_requests` (then with 20 % jitter); `app` replaces the WSGI application, e.g. the bare
    hello-world ceiling. `source` is the checkout served (its gunicorn.conf.py, which puts its
    own directory first on sys.path, and its code), e.g. an earlier commit's worktree
    (bench/worktree.py); the venv's binaries are always this checkout's. Its stdout is
    discarded, its stderr is ours; SIGTERM stops it. Yields once every worker is up."""
    options = [
        "--max-requests",
        str(max_requests),
        "--max-requests-jitter",
        str(max_requests // 5),
        "--log-level",
        "warning",
        *([app] if app else []),
    ]
    with gunicorn(
        {**os.environ, **BASE_ENV, **env},
        port,
        workers=workers,
        ready_path=ready_path,
        args=options,
        source=source,
        stderr=sys.stderr,
        stop_signal=signal.SIGTERM,
        stop_timeout=30,
    ) as process:
        server = Server(process, port)
        while len(server.worker_pids()) < workers:
            time.sleep(0.1)
        yield server


def median(samples: list[Sample], field: str) -> float:
    return statistics.median(getattr(sample, field) for sample in samples)


def pairwise_ratio(a: list[Sample], b: list[Sample], field: str) -> float:
    """Median over rounds of b/a, each round's pair measured back to back."""
    return statistics.median(
        getattr(y, field) / getattr(x, field) for x, y in zip(a, b, strict=True)
    )


def comparison_arguments(description: str, **extra) -> argparse.Namespace:
    """--rounds, --seconds, --connections (and `extra` name=(type, default) options)."""
    parser = argparse.ArgumentParser(description=description.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--connections", type=int, default=4)
    for name, (kind, default) in extra.items():
        nargs = "+" if isinstance(default, list) else None
        parser.add_argument(f"--{name}", type=kind, default=default, nargs=nargs)
    return parser.parse_args()


def lead_endpoints(token: str, create_script: Path) -> dict[str, "Endpoint"]:
    """The three lead endpoints every comparison drives: a 50-row page, create, retrieve."""
    api = {"Authorization": f"Token {token}"}
    return {
        "lead list": Endpoint("/api/v1/leads/?page_size=50", api),
        "lead create": Endpoint("/api/v1/leads/", api, create_script),
        "lead retrieve": Endpoint(f"/api/v1/leads/{some_lead_id()}/", api),
    }


@dataclass
class Configuration:
    """One side of a comparison: gunicorn's environment, optionally another WSGI app that
    only answers some endpoints (endpoint name → path), e.g. the bare hello-world."""

    env: dict
    app: str | None = None
    paths: dict[str, str] | None = None
    source: Path = ROOT  # the checkout served: ROOT (the working tree) or a worktree()


@dataclass
class Endpoint:
    path: str
    headers: dict | None = None
    script: Path | None = None


def _measure(
    server: Server,
    config: Configuration,
    endpoint: str,
    spec: Endpoint,
    seconds: int,
    connections: int,
) -> Sample:
    """One wrk run of `endpoint` against one configuration's server."""
    return load(
        server,
        (config.paths or {}).get(endpoint, spec.path),
        seconds=seconds,
        headers=None if config.app else spec.headers,
        script=None if config.app else spec.script,
        connections=connections,
    )


def compare(
    configurations: dict[str, Configuration],
    endpoints: dict[str, Endpoint],
    args: argparse.Namespace,
    *,
    baseline: str,
    name: str,
) -> dict:
    """Every configuration served at once (one gunicorn each, on its own port), then, endpoint
    by endpoint, each warmed up 2 s and measured in rounds of every configuration in rotating
    order (A/B/C, B/C/A, ...), so the runs of a pair are seconds apart, not minutes: a
    machine whose speed drifts (a shared VM) moves both sides of a ratio alike. Medians over
    rounds; ratios against `baseline` computed round by round. Printed, and saved as
    bench/results/NAME.json. `args` comes from comparison_arguments() (rounds, seconds,
    connections). Endpoints run in the order given: put the lead list before lead create,
    which grows the table. A server's spans left in its export queue at the end of its run are
    exported during the next configuration's run (≤ one batch, within 5 s): on 2 cores that
    costs the next run a few tens of milliseconds of CPU, noise next to the rounds' spread.
    """
    rounds, seconds, connections = args.rounds, args.seconds, args.connections
    names = list(configurations)
    width = max(13, *map(len, names))  # e.g. sampled-100%@c63a06a
    samples: dict[tuple[str, str], list[Sample]] = {}
    rss: dict[str, list[int]] = {}
    reset_dataset()
    with contextlib.ExitStack() as stack:
        servers = {}
        for offset, config_name in enumerate(names):
            config = configurations[config_name]
            ready = next(iter((config.paths or {}).values()), "/") if config.app else "/health/ping"
            servers[config_name] = stack.enter_context(
                serve(
                    config.env,
                    port=8899 + offset,
                    ready_path=ready,
                    app=config.app,
                    source=config.source,
                )
            )
        for endpoint, spec in endpoints.items():
            serving = [
                name
                for name in names
                if not configurations[name].paths or endpoint in configurations[name].paths
            ]
            for config_name in serving:  # warm-up
                _measure(
                    servers[config_name],
                    configurations[config_name],
                    endpoint,
                    spec,
                    2,
                    connections,
                )
            for round_number in range(rounds):
                shift = round_number % len(serving)
                for config_name in serving[shift:] + serving[:shift]:
                    sample = _measure(
                        servers[config_name],
                        configurations[config_name],
                        endpoint,
                        spec,
                        seconds,
                        connections,
                    )
                    samples.setdefault((config_name, endpoint), []).append(sample)
                    print(f"round {round_number + 1} {config_name:{width}} {endpoint:14} {sample}")
        for config_name, server in servers.items():
            rss[config_name] = server.rss_bytes()

    report = {"rounds": rounds, "seconds": seconds, "connections": connections, "rows": []}
    print(
        f"\n{'endpoint':14} {'config':{width}} {'req/s':>7} {'p50':>6} {'p95':>6} {'p99':>6} "
        f"{'cpu ms':>7} {'rps/base':>8} {'p95/base':>8} {'p95-base':>8}"
    )
    for endpoint in endpoints:
        base = samples[(baseline, endpoint)]
        for config_name in names:
            runs = samples.get((config_name, endpoint))
            if not runs:
                continue
            fields = ("rps", "p50_ms", "p95_ms", "p99_ms", "cpu_ms_per_request")
            row = {
                "endpoint": endpoint,
                "config": config_name,
                **{field: median(runs, field) for field in fields},
                "rps_ratio": pairwise_ratio(base, runs, "rps"),
                "p95_ratio": pairwise_ratio(base, runs, "p95_ms"),
                "p95_added_ms": median(runs, "p95_ms") - median(base, "p95_ms"),
            }
            report["rows"].append(row)
            print(
                f"{endpoint:14} {config_name:{width}} {row['rps']:7.0f} {row['p50_ms']:6.1f} "
                f"{row['p95_ms']:6.1f} {row['p99_ms']:6.1f} {row['cpu_ms_per_request']:7.2f} "
                f"{row['rps_ratio']:8.3f} {row['p95_ratio']:8.3f} {row['p95_added_ms']:8.2f}"
            )
    report["rss_mib_per_worker"] = {
        config: round(statistics.median(sizes) / 2**20, 1) for config, sizes in rss.items() if sizes
    }
    print("RSS MiB per worker (median):", report["rss_mib_per_worker"])
    report["rounds_measured"] = [  # every run, so a median can be checked against its spread
        {"config": config_name, "endpoint": endpoint, "round": number + 1, **asdict(sample)}
        for (config_name, endpoint), runs in samples.items()
        for number, sample in enumerate(runs)
    ]
    save(report, name)
    return report


def save(report: dict, name: str) -> Path:
    """Write bench/results/NAME.json."""
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    path = out / f"{name}.json"
    path.write_text(json.dumps(report, indent=1))
    return path


def per_round(report: dict, config: str, endpoint: str) -> list[dict]:
    """compare()'s runs of one configuration on one endpoint, in round order."""
    runs = [
        run
        for run in report["rounds_measured"]
        if run["config"] == config and run["endpoint"] == endpoint
    ]
    return sorted(runs, key=lambda run: run["round"])
