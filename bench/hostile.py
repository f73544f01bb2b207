"""Probes under hostile clients: slow headers, slow bodies, long exports, a password flood.

    .venv/bin/python -m bench.hostile [--seconds 8] [--rounds 2] [--before REV]

Kubernetes restarts a pod whose liveness probe misses three times and stops routing to one
whose readiness probe misses twice, each with a 1 s timeout. So the question is not how fast
the API is under attack but whether /health/alive, /health/ready and /health/ping still answer
in time while something holds the workers. Each scenario runs for --seconds against gunicorn
(2 workers, the project's gunicorn.conf.py, production settings, PostgreSQL), with a prober
sending each probe in turn every 50 ms, as kubelet would, on a fresh connection with a 2 s
timeout (a timeout counts as a miss). Configurations are served side by side and measured in
rotating order, like every other comparison here.

The attackers are plain sockets and threads, shared with the hostile-client tests.
"""

import argparse
import contextlib
import http.client
import itertools
import json
import re
import socket
import statistics
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

PROBES = ("/health/ping", "/health/alive", "/health/ready")
PROBE_TIMEOUT = 2.0


# --- Attackers ---------------------------------------------------------------------------------


class SlowClient(threading.Thread):
    """A slowloris: headers (or a body) one byte per `interval`, never finished.

    mode "headers": a request line and headers that never end; mode "body": complete headers
    announcing `Content-Length: 100000`, then the body a byte at a time."""

    def __init__(self, host: str, port: int, mode: str, stop: threading.Event, interval=1.0):
        super().__init__(daemon=True)
        self.address, self.mode, self.stop, self.interval = (host, port), mode, stop, interval
        self.bytes_sent = 0
        self.closed_by_server = False

    def run(self) -> None:
        with contextlib.suppress(OSError), socket.create_connection(self.address) as sock:
            if self.mode == "headers":
                sock.sendall(b"GET /api/v1/leads/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            else:
                sock.sendall(
                    b"POST /api/v1/leads/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
                )
            while not self.stop.wait(self.interval):
                try:
                    sock.sendall(b"a")
                    self.bytes_sent += 1
                except OSError:
                    self.closed_by_server = True
                    return


class Repeater(threading.Thread):
    """`request()` in a loop until stopped, counting the answers by status."""

    def __init__(self, request: Callable[[], int], stop: threading.Event):
        super().__init__(daemon=True)
        self.request, self.stop = request, stop
        self.statuses: dict[int, int] = {}

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                status = self.request()
            except OSError:
                status = 0  # connection refused, reset or timed out
            self.statuses[status] = self.statuses.get(status, 0) + 1


def get(host: str, port: int, path: str, headers=None, timeout=30.0) -> int:
    """One request on a fresh connection, body read to the end; its status."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Host": "127.0.0.1", **(headers or {})})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def admin_login_attempt(host: str, port: int, username: str, password: str) -> int:
    """A browser's wrong-password login to the admin: the form's CSRF cookie and field."""
    connection = http.client.HTTPConnection(host, port, timeout=30)
    try:
        connection.request("GET", "/admin/login/", headers={"Host": "127.0.0.1"})
        page = connection.getresponse()
        html = page.read().decode()
        cookie = re.search(r"csrftoken=([^;]+)", page.getheader("Set-Cookie") or "").group(1)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        form = urllib.parse.urlencode(
            {"username": username, "password": password, "csrfmiddlewaretoken": token}
        )
        connection.request(
            "POST",
            "/admin/login/?next=/admin/",
            body=form,
            headers={
                "Host": "127.0.0.1",
                "Cookie": f"csrftoken={cookie}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def token_login_attempt(host: str, port: int, username: str, password: str) -> int:
    connection = http.client.HTTPConnection(host, port, timeout=30)
    try:
        body = json.dumps({"username": username, "password": password})
        connection.request(
            "POST",
            "/api/v1/auth/token/",
            body=body,
            headers={"Host": "127.0.0.1", "Content-Type": "application/json"},
        )
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


# --- The prober --------------------------------------------------------------------------------


@dataclass
class ProbeResults:
    latencies_ms: dict[str, list[float]] = field(default_factory=dict)
    misses: dict[str, int] = field(default_factory=dict)  # timeouts, errors and non-200s

    def summary(self) -> dict[str, dict]:
        rows = {}
        for path, values in self.latencies_ms.items():
            ordered = sorted(values)
            rows[path] = {
                "n": len(values),
                "p50_ms": round(statistics.median(ordered), 2),
                "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 2),
                "max_ms": round(ordered[-1], 2),
                "misses": self.misses.get(path, 0),
            }
        return rows


class Prober(threading.Thread):
    """Each probe in turn every `period`, like kubelet: fresh connection, `PROBE_TIMEOUT`."""

    def __init__(self, host: str, port: int, stop: threading.Event, period=0.05, paths=PROBES):
        super().__init__(daemon=True)
        self.host, self.port, self.stop, self.period, self.paths = host, port, stop, period, paths
        self.results = ProbeResults({path: [] for path in paths}, dict.fromkeys(paths, 0))

    def run(self) -> None:
        while not self.stop.is_set():
            for path in self.paths:
                started = time.perf_counter()
                try:
                    status = get(
                        self.host,
                        self.port,
                        path,
                        headers={"User-Agent": "kube-probe/1.33", "Accept": "*/*"},
                        timeout=PROBE_TIMEOUT,
                    )
                except OSError:
                    status = 0
                elapsed = (time.perf_counter() - started) * 1000
                self.results.latencies_ms[path].append(min(elapsed, PROBE_TIMEOUT * 1000))
                if status != 200:
                    self.results.misses[path] += 1
                self.stop.wait(self.period)


# --- Scenarios ---------------------------------------------------------------------------------


@dataclass
class Scenario:
    name: str
    start: Callable[[str, int, threading.Event], list[threading.Thread]]


def slow_clients(mode: str, count: int = 4) -> Scenario:
    def start(host, port, stop):
        return [SlowClient(host, port, mode, stop) for _ in range(count)]

    return Scenario(f"{count} slow clients ({mode})", start)


def exports(token: str, count: int = 8) -> Scenario:
    def start(host, port, stop):
        headers = {"Authorization": f"Token {token}"}
        return [
            Repeater(lambda: get(host, port, "/api/v1/leads/export/", headers), stop)
            for _ in range(count)
        ]

    return Scenario(f"{count} concurrent CSV exports", start)


def password_flood(count: int = 30) -> Scenario:
    def start(host, port, stop):
        guesses = itertools.count()

        def attempt():
            return admin_login_attempt(host, port, f"guess{next(guesses) % 50}", "wrong-password")

        return [Repeater(attempt, stop) for _ in range(count)]

    return Scenario(f"{count}-thread admin password flood", start)


def idle() -> Scenario:
    return Scenario("no load", lambda host, port, stop: [])


@contextlib.contextmanager
def running(scenario: Scenario, host: str, port: int) -> Iterator[list[threading.Thread]]:
    """The scenario's attackers running until the block ends (then stopped and joined)."""
    stop = threading.Event()
    threads = scenario.start(host, port, stop)
    for thread in threads:
        thread.start()
    try:
        yield threads
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=35)


def probe_during(scenario: Scenario, host: str, port: int, seconds: float) -> dict:
    """Probe latencies while `scenario` runs (after a 1 s head start for the attackers)."""
    with running(scenario, host, port) as attackers:
        time.sleep(1)
        stop = threading.Event()
        prober = Prober(host, port, stop)
        prober.start()
        time.sleep(seconds)
        stop.set()
        prober.join(timeout=PROBE_TIMEOUT * len(PROBES) + 1)
    statuses: dict[int, int] = {}
    for attacker in attackers:
        for status, count in getattr(attacker, "statuses", {}).items():
            statuses[status] = statuses.get(status, 0) + count
    return {"probes": prober.results.summary(), "attacker_statuses": statuses}


# --- The bench ---------------------------------------------------------------------------------


def main() -> None:
    from bench import harness, worktree

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--before", help="also serve this earlier commit (e.g. HEAD~3)")
    args = parser.parse_args()

    token = harness.prepare_database()
    scenarios = [
        idle(),
        slow_clients("headers"),
        slow_clients("body"),
        exports(token),
        password_flood(),
    ]
    with contextlib.ExitStack() as stack:
        configs = {"this tree": harness.ROOT}
        if args.before:
            earlier = stack.enter_context(worktree.worktree(args.before))
            configs = {f"before ({args.before})": earlier, **configs}
        servers = {
            name: stack.enter_context(
                harness.serve({}, port=8899 + i, ready_path="/health/ping", source=source)
            )
            for i, (name, source) in enumerate(configs.items())
        }
        report: dict = {}
        for round_number in range(args.rounds):
            for scenario in scenarios:
                names = list(servers)
                shift = round_number % len(names)
                for name in names[shift:] + names[:shift]:
                    result = probe_during(scenario, "127.0.0.1", servers[name].port, args.seconds)
                    report.setdefault(scenario.name, {}).setdefault(name, []).append(result)
                    print(f"round {round_number + 1} {scenario.name} {name}: {result}", flush=True)
    print_table(report)
    harness.save(report, "hostile")


def print_table(report: dict) -> None:
    print(f"\n{'scenario':38} {'server':22} {'probe':14}", end=" ")
    print(f"{'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'misses':>6}")
    for scenario, by_server in report.items():
        for server, runs in by_server.items():
            for path in PROBES:
                rows = [run["probes"][path] for run in runs]
                print(
                    f"{scenario:38} {server:22} {path:14} "
                    f"{statistics.median(r['p50_ms'] for r in rows):8.1f} "
                    f"{max(r['p99_ms'] for r in rows):8.1f} {max(r['max_ms'] for r in rows):8.1f} "
                    f"{sum(r['misses'] for r in rows):6}"
                )


if __name__ == "__main__":
    main()
