"""Real processes for tests: gunicorn serving the project, free ports, plain HTTP calls.

The benchmarks start gunicorn here too (bench/harness.py), and run on the runtime requirements
alone: this module imports nothing but the standard library."""

import http.server
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def serving(handler: type[http.server.BaseHTTPRequestHandler]):
    """`handler` on a free loopback port in a thread; yields the port, shuts down after."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(**overrides) -> dict:
    """The test process's environment without app settings, plus `overrides`."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OTEL_", "DATABASE_", "DJANGO_", "HEALTH_", "SENTRY_"))
    }
    return (
        env
        | {
            "DJANGO_SECRET_KEY": "test-server",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SECURE_SSL_REDIRECT": "false",  # plain HTTP on purpose
        }
        | overrides
    )


def http_get(url: str, headers: dict | None = None, timeout: float = 10):
    """(status, body bytes, headers) for a GET, errors included."""
    return http_request("GET", url, headers=headers, timeout=timeout)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer to look at, never a request to send: a Location built from a
    test's Host header (a pod IP, a foreign host) must not be followed off this machine."""

    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def http_request(
    method: str, url: str, body: bytes | None = None, headers: dict | None = None, timeout=10
):
    """(status, body bytes, headers) for any method, errors and redirects included."""
    request = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        with _opener.open(request, timeout=timeout) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers


@contextmanager
def gunicorn(
    env: dict,
    port: int,
    *,
    workers: int = 2,
    ready_path: str = "/health/ping",
    output: Path | None = None,
    args: Sequence[str] = (),
    source: Path = ROOT,
    stderr=subprocess.STDOUT,
    stop_signal: int = signal.SIGKILL,
    stop_timeout: float = 15,
):
    """gunicorn with the project's gunicorn.conf.py, up and answering `ready_path`; yields its
    Popen. The one place the tests and the benchmarks (bench/harness.py serve()) start it.

    Run with exactly `env`, in a session of its own, bound to 127.0.0.1:`port`, with `workers`
    workers and then `args` (more options, an application to serve instead). `source`: the
    checkout served, its gunicorn.conf.py and code (an earlier commit's worktree, say); the
    gunicorn binary is always this checkout's venv's. `output`: a file that gets the server's
    stdout and stderr (the app's JSON log lines and gunicorn's own); discarded by default, or
    stderr alone goes where `stderr` says. Up means a GET of `ready_path` succeeded (urlopen: no
    error status) within 30 s; else RuntimeError. On the way out the whole process group gets
    `stop_signal` (while the master still runs); the master is waited for `stop_timeout` s."""
    sink = open(output, "ab") if output is not None else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "-c",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            *args,
        ],
        cwd=source,
        env=env,
        stdout=sink,
        stderr=stderr,
        start_new_session=True,
    )
    if output is not None:
        sink.close()  # the child has its own copy
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}{ready_path}", timeout=2)
                break
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError(
                        f"gunicorn exited ({process.returncode}) before {ready_path} answered"
                    ) from None
                if time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not answer {ready_path} in 30 s") from None
                time.sleep(0.2)
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, stop_signal)
            process.wait(timeout=stop_timeout)


def migrated_database_url() -> str:
    """The migrated test database, as a URL a child process can use."""
    from django.db import connection

    config = connection.settings_dict
    credentials = config["USER"] + (f":{config['PASSWORD']}" if config["PASSWORD"] else "")
    return f"postgres://{credentials}@{config['HOST']}:{config['PORT']}/{config['NAME']}"
