"""The API's own cost against its floor: the same SQL on a raw cursor, the same JSON by hand.

    .venv/bin/python -m bench.floor [--rounds 7] [--requests 200]

Observability costs are measured elsewhere (`make bench`); this asks what Django and DRF cost
on top of the work a request cannot avoid. In one process, observability off, on the bench's
PostgreSQL database (3,000 demo leads), each endpoint is called through Django's test client
(every middleware, DRF's authentication, permissions, throttling, filtering, the serializer and
the JSON renderer) and its floor is run beside it, call by call, interleaved:

- the floor of a read replays the very SQL statements the API ran for it (captured once with
  Django's CaptureQueriesContext: the token lookup, the count, the page or the row) on a raw
  psycopg cursor, and encodes the rows it fetched as JSON by hand (a dict per row, dates in
  ISO 8601), with json.dumps, as the API's JSON renderer does;
- the floor of a create runs the token lookup, one INSERT ... RETURNING of the same columns in
  a transaction, and encodes the row.

A round is `--requests` calls of each, interleaved; its ratio is median(API) ÷ median(floor).
Medians (and the spread) over rounds are printed. The ratio, not the milliseconds, is the
figure: both sides share the machine's moment.

`--before REV` also measures an earlier commit in the same run: its tree is checked out in a
temporary git worktree (bench/worktree.py, this venv) and its own bench.floor runs there in a
subprocess, endpoint by endpoint, right before this tree's run of the same endpoint; both
tables are printed, with this tree's ratio over REV's. REV may also be the directory of another
checkout (e.g. uncommitted work set aside), which must have its own .venv (a symlink will do).
`--profile` runs each endpoint's API `--requests` times under cProfile instead, and prints
where the time goes.
"""

import argparse
import contextlib
import cProfile
import datetime
import decimal
import io
import itertools
import json
import os
import pstats
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

from bench import harness, worktree

OFF = {
    "METRICS_ENABLED": "false",
    "OTEL_ENABLED": "false",
    "SENTRY_ENABLED": "false",
    "LOG_LEVEL": "WARNING",
}


def _setup_django(token: str) -> None:
    os.environ.update({**harness.BASE_ENV, **OFF})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "intelliflow.settings")
    import django

    django.setup()


def _encode(value):
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID | decimal.Decimal):
        return str(value)
    return value


def _rows_as_json(cursor) -> list[dict]:
    names = [column.name for column in cursor.description]
    return [{name: _encode(value) for name, value in zip(names, row, strict=True)}
            for row in cursor.fetchall()]  # fmt: skip


class Endpoint:
    """An API call through the test client, and its floor."""

    def __init__(self, name: str, client, token: str):
        self.name, self.client = name, client
        self.headers = {"HTTP_AUTHORIZATION": f"Token {token}"}

    def api(self) -> int:
        raise NotImplementedError

    def floor(self, cursor) -> bytes:
        raise NotImplementedError


class Read(Endpoint):
    """GET `path`; the floor replays its captured statements and encodes what they return."""

    def __init__(self, name, client, token, path: str, shape):
        super().__init__(name, client, token)
        self.path, self.shape = path, shape
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            status = self.api()
        if status != 200:
            raise RuntimeError(f"{path} answered {status}")
        # Savepoints and session settings are the framework's, not the work's.
        self.statements = [
            query["sql"] for query in captured.captured_queries
            if query["sql"].lstrip().upper().startswith("SELECT")
        ]  # fmt: skip

    def api(self) -> int:
        response = self.client.get(self.path, **self.headers, HTTP_HOST="127.0.0.1")
        response.content  # noqa: B018 - rendered, as a server would send it
        return response.status_code

    def floor(self, cursor) -> bytes:
        results = []
        for sql in self.statements:
            cursor.execute(sql)
            results.append(_rows_as_json(cursor))
        return json.dumps(self.shape(results)).encode()


def _page(results: list[list[dict]]) -> dict:
    count = next((rows[0]["count"] for rows in results if rows and "count" in rows[0]), 0)
    return {"count": count, "next": None, "previous": None, "results": results[-1]}


def _one(results: list[list[dict]]) -> dict:
    return results[-1][0]


class Create(Endpoint):
    """POST a new lead; the floor looks the token up and INSERTs the row the API would."""

    def __init__(self, name, client, token):
        super().__init__(name, client, token)
        self.token = token
        self.numbers = itertools.count()
        self.columns, self.values = self._row_template()

    def _row_template(self) -> tuple[list[str], list]:
        """Every column of a lead as create stores it, computed once from the model (the
        floor's own work is the INSERT, not deciding defaults)."""
        from django.db import connection

        from leads.models import Lead

        lead = Lead(**self._lead())
        fields = list(Lead._meta.concrete_fields)
        values = [
            field.get_db_prep_save(field.pre_save(lead, add=True), connection) for field in fields
        ]
        return [field.column for field in fields], values

    def _lead(self) -> dict:
        number = next(self.numbers)
        return {
            "first_name": "Floor",
            "last_name": f"Bench{number}",
            "email": f"floor-{os.getpid()}-{number}@bench.example",
            "company": "Bench Ltd",
        }

    def api(self) -> int:
        response = self.client.post(
            "/api/v1/leads/",
            self._lead(),
            content_type="application/json",
            HTTP_HOST="127.0.0.1",
            **self.headers,
        )
        response.content  # noqa: B018
        return response.status_code

    def floor(self, cursor) -> bytes:
        email = self._lead()["email"]
        cursor.execute(
            "SELECT u.id, u.is_active FROM authtoken_token t JOIN auth_user u ON u.id = t.user_id "
            "WHERE t.key = %s",
            [self.token],
        )
        user_id, _ = cursor.fetchone()
        fresh = {"id": uuid.uuid4(), "owner_id": user_id}
        values = [
            email if column.startswith("email") else fresh.get(column, value)
            for column, value in zip(self.columns, self.values, strict=True)
        ]
        cursor.execute("BEGIN")
        cursor.execute(
            f"INSERT INTO leads_lead ({', '.join(self.columns)}) "
            f"VALUES ({', '.join(['%s'] * len(values))}) RETURNING *",
            values,
        )
        body = json.dumps(_rows_as_json(cursor)[0]).encode()
        cursor.execute("COMMIT")
        return body


def measure(endpoint: Endpoint, cursor, rounds: int, requests: int) -> dict:
    """`rounds` rounds of `requests` calls, API and floor interleaved call by call."""
    for _ in range(20):  # warm-up: caches, the pool, the planner
        endpoint.api()
        endpoint.floor(cursor)
    measured = []
    for _ in range(rounds):
        api_times, floor_times = [], []
        for _ in range(requests):
            started = time.perf_counter()
            endpoint.api()
            api_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            endpoint.floor(cursor)
            floor_times.append(time.perf_counter() - started)
        measured.append((statistics.median(api_times), statistics.median(floor_times)))
    ratios = [api / floor for api, floor in measured]
    return {
        "api_ms": statistics.median(api for api, _ in measured) * 1000,
        "floor_ms": statistics.median(floor for _, floor in measured) * 1000,
        "ratio": statistics.median(ratios),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
    }


def profile(endpoint: Endpoint, requests: int, lines: int = 30) -> None:
    """cProfile over `requests` API calls (after a warm-up): the top entries by cumulative and
    by own time. cProfile slows Python calls down several times: read shares, not times."""
    for _ in range(20):
        endpoint.api()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        endpoint.api()
    profiler.disable()
    print(f"\n=== {endpoint.name}: {requests} calls under cProfile ===")
    prefixes = sorted({*sys.path, str(harness.ROOT)}, key=len, reverse=True)
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(lines)
        text = out.getvalue()
        for prefix in prefixes:  # site-packages/django/... -> django/...
            if prefix.startswith("/"):
                text = text.replace(prefix.rstrip("/") + "/", "")
        print(text)


def measure_before(tree, name: str, args) -> dict:
    """`name` measured by REV's own bench.floor in its worktree `tree` (a subprocess)."""
    subprocess.run(
        [harness.PYTHON, "-m", "bench.floor", "--rounds", str(args.rounds),
         "--requests", str(args.requests), "--endpoints", name],
        cwd=tree,
        check=True,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return json.loads((tree / "bench" / "results" / "floor.json").read_text())[name]


def print_table(title: str, report: dict, before: dict | None = None) -> None:
    print(f"\n{title}")
    print(f"{'request':10} {'API ms':>8} {'floor ms':>9} {'API ÷ floor':>24}", end="")
    print(f" {'÷ before':>9}" if before else "")
    for name, row in report.items():
        spread = f"{row['ratio']:.2f} ({row['ratio_min']:.2f}..{row['ratio_max']:.2f})"
        print(f"{name:10} {row['api_ms']:8.2f} {row['floor_ms']:9.2f} {spread:>24}", end="")
        print(f" {row['ratio'] / before[name]['ratio']:9.2f}" if before else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--endpoints", nargs="+", default=["list", "retrieve", "create"])
    parser.add_argument(
        "--before", metavar="REV", help="also measure this commit (in a worktree) or checkout"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the API calls instead")
    args = parser.parse_args()

    token = harness.prepare_database()
    lead_id = harness.some_lead_id()
    _setup_django(token)
    import psycopg
    from django.test import Client

    client = Client()
    builders = {
        "list": lambda: Read("list", client, token, "/api/v1/leads/?page_size=50", _page),
        "retrieve": lambda: Read("retrieve", client, token, f"/api/v1/leads/{lead_id}/", _one),
        "create": lambda: Create("create", client, token),
    }
    endpoints = [builders[name]() for name in args.endpoints]
    if args.profile:
        for endpoint in endpoints:
            profile(endpoint, args.requests)
        harness.reset_dataset()
        return
    report, before = {}, {}
    with contextlib.ExitStack() as stack:
        tree = None
        if args.before and os.path.isdir(args.before):  # another checkout, as it is
            tree = Path(args.before)
        elif args.before:
            tree = stack.enter_context(worktree.worktree(args.before))
            (tree / ".venv").symlink_to(harness.ROOT / ".venv")  # its harness runs this venv
        with psycopg.connect(harness.BENCH_DATABASE_URL, autocommit=True) as raw:
            cursor = raw.cursor()
            for endpoint in endpoints:
                if tree is not None:  # just before this tree's run of the same endpoint
                    before[endpoint.name] = measure_before(tree, endpoint.name, args)
                report[endpoint.name] = measure(endpoint, cursor, args.rounds, args.requests)
    harness.reset_dataset()
    title = f"{args.rounds} rounds x {args.requests} calls, observability off, in one process"
    if before:
        print_table(f"{args.before}: {title}", before)
        print_table(f"this tree: {title}", report, before)
        report = {"this tree": report, args.before: before}
    else:
        print_table(title, report)
    harness.save(report, "floor")


if __name__ == "__main__":
    main()
