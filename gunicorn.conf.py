"""Production serving: `gunicorn -c gunicorn.conf.py` (the Makefile's `run` uses it too).

Every value can be overridden from the environment; gunicorn's own WEB_CONCURRENCY and
GUNICORN_CMD_ARGS work as usual.
"""

import multiprocessing
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "intelliflow.settings")

import environ

from intelliflow import __version__
from observability.logging import install_logger_class, logging_config
from observability.multiprocess import memory_directory

_env = environ.Env()

wsgi_app = "intelliflow.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Threaded workers (gthread), one per core, GUNICORN_THREADS threads each. A sync worker gives
# itself whole to one socket: two clients dribbling a request a byte a second, or two long CSV
# exports, held both workers, and kubelet's probes queued behind them until the pod was
# restarted. gunicorn's gthread worker parks an idle connection in its event loop, not on a
# thread, and with eight threads per worker a probe finds a free one while slow clients and long
# requests hold others (`make bench-hostile`, bench/RESULTS.md "Hostile clients"). The price:
# Django work is CPU under the GIL, so threads buy no throughput on 2 cores and spread latency
# under saturation (`make bench-threads`). A client that keeps dribbling holds its thread for as
# long as it does: more slow clients than threads are the edge proxy's to absorb (an ingress or
# load balancer that buffers requests; docs/hostile-clients.md).
# Threads share their worker's database pool (DB_POOL_MAX_SIZE, 4): a thread past it waits up to
# DB_POOL_TIMEOUT for a connection, so a pod never opens more than workers x 4 to PostgreSQL;
# the probes use connections of their own (health/checks.py) and never wait there.
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))
threads = int(os.environ.get("GUNICORN_THREADS", "8"))

# Worker heartbeat files in memory, as gunicorn's docs advise when /tmp is on disk (the metrics
# directory goes there too, see observability/multiprocess.py; Kubernetes mounts /tmp as a
# memory emptyDir anyway).
worker_tmp_dir = os.environ.get("GUNICORN_WORKER_TMP_DIR") or memory_directory()

timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "25"))
keepalive = 5

# Recycle workers now and then so a slow leak cannot grow forever; jitter avoids a herd.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "200"))

# The app writes its own access line; gunicorn's would be a second copy.
accesslog = None
# gunicorn's own lines (listening, worker boot, WORKER TIMEOUT, crashes) as JSON lines of the
# app's schema on stdout, so the log pipeline keeps them: the same configuration as Django's
# LOGGING, from the same variables (intelliflow/settings/logs.py reads them for Django).
# gunicorn creates its loggers after reading this file, with the logger class Django's
# LOGGING_CONFIG installs in the workers (a clashing `extra` key is kept, never a crash).
install_logger_class()
_debug = _env.bool("DJANGO_DEBUG", default=False)
logconfig_dict = logging_config(
    level=_env.str("LOG_LEVEL", default="INFO").upper(),
    log_format=_env.str("LOG_FORMAT", default="json").lower(),
    service=_env.str("OTEL_SERVICE_NAME", default="intelliflow-crm"),
    environment=_env.str("DJANGO_ENV", default="development" if _debug else "production"),
    version=__version__,
)

# gunicorn 27 opens a control socket under $HOME by default; we neither need nor want one.
control_socket_disable = True

# Never preload: the app (and its telemetry threads) must start in each worker, after the fork.
preload_app = False


def on_starting(server):
    # Metrics: every worker writes to one directory, emptied now, before any worker starts.
    from observability import multiprocess

    multiprocess.prepare_directory()
    # Workers build their TracerProvider in post_fork; wsgi.py then only instruments.
    from observability import tracing

    tracing.defer_to_post_fork()


def child_exit(server, worker):
    # A recycled or crashed worker: drop its live gauges, fold its counters into the archive.
    from observability import multiprocess

    multiprocess.retire_worker(worker.pid)


def on_exit(server):
    from observability import multiprocess

    multiprocess.remove_directory()


def post_fork(server, worker):
    from observability import tracing

    if tracing.tracing_enabled():
        tracing.configure_tracing()


def post_worker_init(worker):
    # SIGTERM: keep serving HEALTH_DRAIN_SECONDS with /health/ready failing, then exit.
    # Keep it below graceful_timeout, after which the master kills the worker.
    from django.conf import settings

    from health import draining

    draining.install(worker.handle_exit, drain_seconds=settings.HEALTH_DRAIN_SECONDS)


def worker_exit(server, worker):
    # Bounded: an unreachable collector or Sentry host must not hold the worker's exit.
    from observability import errors, tracing

    tracing.shutdown_tracing()
    errors.flush_errors()
