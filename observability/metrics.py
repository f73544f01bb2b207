"""Prometheus metrics: django-prometheus for requests and queries, plus our own families.

- Requests: django-prometheus' middleware, extended so the `view` label is the route
  template (`api/v1/leads/<uuid:pk>/`) and unknown methods fold into one value, as the
  latency histogram otherwise takes the raw method. The database: django-prometheus'
  PostgreSQL/SQLite backends (query duration, queries, errors; its "new connections" counter
  counts pool checkouts).
- The connection pool and the process: gauges written by every worker (multiprocess modes
  `livesum` and `liveall`), refreshed by a sampler thread per process and at each scrape,
  because prometheus_client's own process collector only sees the scraping worker. CPU time
  is a counter per worker (`intelliflow_process_cpu_seconds_total`, by `pid`): each worker
  writes its own total, and the scrape exposes those values with the counter type.
- Business: leads created, status transitions, import rows, and build info.

Every metric is a module-level object; labels take bounded values only (sources, statuses,
outcomes, route templates), never IDs, e-mails or raw paths. Our labelled counters exist at 0
for each of their label values from the start. django-prometheus' own request, response and
exception counters are not pre-set: their labels (route x method x status, exception types)
only appear with traffic, and the worker CPU counter's `pid` is one series per live worker.
Exemplars are not available in multiprocess mode; metric → trace correlation is made in the
monitoring stack instead.
"""

import glob
import hmac
import os
import platform
import threading
import time

import django
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.http import HttpRequest, HttpResponse
from django_prometheus import middleware as django_prometheus_middleware
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge
from prometheus_client.core import CounterMetricFamily
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector

from common.problems import problem_json_response, read_only
from observability import multiprocess

if multiprocess.configured_directory():
    from prometheus_client import values

    # File-backed values or nothing: in-memory ones would be invisible to the scrape.
    if values.ValueClass is values.MutexValue:
        raise ImproperlyConfigured(
            "prometheus_client was imported before PROMETHEUS_MULTIPROC_DIR was set; "
            "see observability/multiprocess.py"
        )

# --- Business ------------------------------------------------------------------------------

LEADS_CREATED = Counter(
    "intelliflow_leads_created_total", "Leads created (committed), by source.", ["source"]
)
LEAD_STATUS_TRANSITIONS = Counter(
    "intelliflow_lead_status_transitions_total",
    "Lead status changes (committed).",
    ["from_status", "to_status"],
)
LEAD_IMPORT_ROWS = Counter(
    "intelliflow_lead_import_rows_total",
    "Rows of lead imports: created (committed) or rejected (the import created nothing).",
    ["outcome"],
)
BUILD_INFO = Gauge(
    "intelliflow_build_info",
    "Always 1; the labels say what runs.",
    ["version", "django", "python"],
    multiprocess_mode="livemax",
)
BUILD_INFO.labels(settings.VERSION, django.get_version(), platform.python_version()).set(1)

# --- Connection pool (psycopg_pool, per worker, summed over live workers) --------------------

POOL_CONNECTIONS = Gauge(
    "intelliflow_db_pool_connections",
    "Pooled connections by state (in_use, idle), summed over live workers.",
    ["alias", "state"],
    multiprocess_mode="livesum",
)
POOL_MAX_CONNECTIONS = Gauge(
    "intelliflow_db_pool_max_connections",
    "Most connections the pools may open, summed over live workers.",
    ["alias"],
    multiprocess_mode="livesum",
)
POOL_REQUESTS_WAITING = Gauge(
    "intelliflow_db_pool_requests_waiting",
    "Requests waiting for a pooled connection now.",
    ["alias"],
    multiprocess_mode="livesum",
)
POOL_REQUESTS = Counter(
    "intelliflow_db_pool_requests_total", "Connections asked of the pool.", ["alias"]
)
POOL_WAITS = Counter(
    "intelliflow_db_pool_waits_total", "Pool requests that had to wait in the queue.", ["alias"]
)
POOL_ERRORS = Counter(
    "intelliflow_db_pool_errors_total",
    "Pool requests that failed (timeout, queue full) and connection attempts that failed.",
    ["alias", "kind"],
)
# psycopg_pool's cumulative stats → our counters (they only ever grow within a process).
_POOL_COUNTER_STATS = {
    "requests_num": lambda alias: POOL_REQUESTS.labels(alias),
    "requests_queued": lambda alias: POOL_WAITS.labels(alias),
    "requests_errors": lambda alias: POOL_ERRORS.labels(alias, "request"),
    "connections_errors": lambda alias: POOL_ERRORS.labels(alias, "connection"),
}


def pooled_aliases() -> list[str]:
    return [alias for alias, db in settings.DATABASES.items() if db.get("OPTIONS", {}).get("pool")]


def _pool_counters_from_zero() -> None:
    """Every pool counter exists at 0 from the first scrape, for each pooled database (the
    labels take the settings' aliases and two kinds), so rate() and increase() see 0 on a
    fresh pod instead of nothing. The leads app's ready() does so for the business counters."""
    for alias in pooled_aliases():
        for counter in _POOL_COUNTER_STATS.values():
            counter(alias)


_pool_counters_from_zero()

# --- Process (per worker; prometheus_client's ProcessCollector is blind in multiprocess) ----

PROCESS_CPU_NAME = "intelliflow_process_cpu_seconds"  # exposed as <name>_total, a counter
PROCESS_CPU_HELP = "User and system CPU time of the worker."
# The worker's CPU total, stored per process like the other process gauges (`liveall`: one
# series per live pid, gone with its worker) but registered nowhere: it only carries the
# value to the scrape, which exposes it as a counter (ProcessCpuCollector,
# StartupSafeMultiProcessCollector). Each pid's series only grows while the worker lives, and
# a new worker is a new series, so rate() over it is right.
PROCESS_CPU = Gauge(PROCESS_CPU_NAME, PROCESS_CPU_HELP, multiprocess_mode="liveall", registry=None)
PROCESS_RSS = Gauge(
    "intelliflow_process_resident_memory_bytes",
    "Resident memory of the worker.",
    multiprocess_mode="liveall",
)
PROCESS_FDS = Gauge(
    "intelliflow_process_open_fds",
    "Open file descriptors of the worker.",
    multiprocess_mode="liveall",
)
PROCESS_START = Gauge(
    "intelliflow_process_start_time_seconds",
    "Start time of the worker since the Unix epoch.",
    multiprocess_mode="liveall",
)

MEMORY_LIMIT = Gauge(
    "intelliflow_memory_limit_bytes",
    "Memory limit of the container (cgroup) or MEMORY_LIMIT_MB; absent when unlimited.",
    multiprocess_mode="livemax",
)

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
_BOOT_TIME = None
_sample_lock = threading.Lock()
_last_pool_stats: dict[tuple[int, str], dict] = {}


def _boot_time() -> float:
    global _BOOT_TIME
    if _BOOT_TIME is None:
        with open("/proc/stat") as stat:
            _BOOT_TIME = next(float(line.split()[1]) for line in stat if line.startswith("btime "))
    return _BOOT_TIME


def _cpu_seconds(fields: list[str]) -> float:
    """utime + stime of /proc/self/stat (the fields after the command name)."""
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def process_cpu_seconds() -> float:
    with open("/proc/self/stat") as stat:
        return _cpu_seconds(stat.read().rsplit(")", 1)[1].split())


class ProcessCpuCollector:
    """This process's CPU time as a counter, read at each scrape (single-process mode)."""

    def collect(self):
        counter = CounterMetricFamily(PROCESS_CPU_NAME, PROCESS_CPU_HELP)
        counter.add_metric([], process_cpu_seconds())
        yield counter

    def describe(self):
        return [CounterMetricFamily(PROCESS_CPU_NAME, PROCESS_CPU_HELP)]


def as_cpu_counter(family):
    """The workers' CPU gauges, as merged from their files, retyped as a counter by pid."""
    counter = CounterMetricFamily(PROCESS_CPU_NAME, PROCESS_CPU_HELP, labels=["pid"])
    for sample in family.samples:
        counter.add_metric([sample.labels["pid"]], sample.value)
    return counter


if not multiprocess.configured_directory():
    REGISTRY.register(ProcessCpuCollector())


def sample_process() -> None:
    with open("/proc/self/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    PROCESS_CPU.set(_cpu_seconds(fields))
    PROCESS_START.set(_boot_time() + int(fields[19]) / _CLOCK_TICKS)
    PROCESS_RSS.set(int(fields[21]) * _PAGE_SIZE)
    PROCESS_FDS.set(len(os.listdir("/proc/self/fd")))


def memory_limit_bytes() -> int | None:
    """cgroup v2, then v1, then MEMORY_LIMIT_MB (e.g. from Kubernetes' downward API)."""
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path) as limit_file:
                raw = limit_file.read().strip()
        except OSError:
            continue
        if raw.isdigit() and int(raw) < 1 << 60:  # v1 says "no limit" with a huge number
            return int(raw)
    return settings.MEMORY_LIMIT_BYTES


def sample_pools() -> None:
    for alias in connections:
        pool = getattr(connections[alias], "pool", None)
        if pool is None:
            continue
        stats = pool.get_stats()
        in_use = stats.get("pool_size", 0) - stats.get("pool_available", 0)
        POOL_CONNECTIONS.labels(alias, "in_use").set(in_use)
        POOL_CONNECTIONS.labels(alias, "idle").set(stats.get("pool_available", 0))
        POOL_MAX_CONNECTIONS.labels(alias).set(stats.get("pool_max", 0))
        POOL_REQUESTS_WAITING.labels(alias).set(stats.get("requests_waiting", 0))
        previous = _last_pool_stats.get((os.getpid(), alias), {})
        for name, counter in _POOL_COUNTER_STATS.items():
            delta = stats.get(name, 0) - previous.get(name, 0)
            if delta > 0:
                counter(alias).inc(delta)
        _last_pool_stats[(os.getpid(), alias)] = stats


def sample() -> None:
    """Refresh this process's pool and process gauges (thread-safe)."""
    with _sample_lock:
        sample_process()
        sample_pools()


# What else the sampler thread refreshes at each interval, registered by the apps from their
# AppConfig.ready() (health: the database probe behind intelliflow_database_up).
_samplers: list = []


def register_sampler(sampler) -> None:
    """Have the sampler thread call `sampler()` too, after the pool and process gauges."""
    if sampler not in _samplers:
        _samplers.append(sampler)


def sample_in_background() -> None:
    """What the sampler thread does: the gauges above, plus what the apps registered."""
    sample()
    for sampler in _samplers:
        sampler()


_sampler_pid: int | None = None


def start_sampler(interval_seconds: float | None = None) -> None:
    """One daemon thread per process that samples every `interval_seconds`."""
    global _sampler_pid
    if _sampler_pid == os.getpid():
        return
    _sampler_pid = os.getpid()
    interval = interval_seconds or settings.METRICS_SAMPLE_SECONDS
    limit = memory_limit_bytes()
    if limit:
        MEMORY_LIMIT.set(limit)

    def run() -> None:
        while True:
            try:
                sample_in_background()
            except Exception:  # a failed sample must never kill the sampler
                import logging

                logging.getLogger(__name__).exception("metrics sampling failed")
            time.sleep(interval)

    threading.Thread(target=run, name="metrics-sampler", daemon=True).start()


# --- Middleware and the /metrics view -------------------------------------------------------


# HTTP methods counted by name; any other method a client sends is folded into one label.
KNOWN_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "TRACE", "OPTIONS", "CONNECT", "PATCH"}
)


class PrometheusAfterMiddleware(django_prometheus_middleware.PrometheusAfterMiddleware):
    """django-prometheus' after-middleware with bounded labels: route templates and a fixed
    set of methods (its latency histogram otherwise takes any method a client sends), set
    through `label_metric`, its documented hook for labels."""

    def label_metric(self, metric, request, response=None, **labels):
        if "view" in labels:
            match = getattr(request, "resolver_match", None)
            labels["view"] = match.route if match is not None else "<unmatched>"
        if "method" in labels:
            method = request.method
            labels["method"] = method if method in KNOWN_METHODS else "<invalid method>"
        return super().label_metric(metric, request, response, **labels)


class StartupSafeMultiProcessCollector(MultiProcessCollector):
    """prometheus_client's collector, minus one race: a worker that is starting creates its
    metric file empty and sizes it a moment later, and a scrape that reads it in between
    fails whole (struct.error, a 500). Such a file holds no value yet: skip it.
    The workers' CPU totals, stored as `liveall` gauges, come out as a counter by pid."""

    def __init__(self, registry, path=None):
        self.directory = path or multiprocess.configured_directory()
        super().__init__(registry, path)

    def collect(self):
        files = []
        for path in glob.glob(os.path.join(self.directory, "*.db")):
            try:
                if os.path.getsize(path) >= 8:  # the header: bytes used, then padding
                    files.append(path)
            except OSError:
                continue
        for family in self.merge(files, accumulate=True):
            if family.name == PROCESS_CPU_NAME and family.type == "gauge":
                yield as_cpu_counter(family)
            else:
                yield family


def count_handled_exception(sender, request: HttpRequest, exception: Exception, **kwargs) -> None:
    """Count an exception that a handler turned into a response, as Django's
    process_exception would have: DRF's handler answers a lost database with a 503 before any
    middleware sees the exception, and the "Exceptions by type" panels must still show it.
    The receiver of common.problems.exception_answered (ObservabilityConfig.ready())."""
    if not settings.METRICS_ENABLED:
        return
    metrics = django_prometheus_middleware.Metrics.get_instance()
    metrics.exceptions_by_type.labels(type=type(exception).__name__).inc()
    match = getattr(request, "resolver_match", None)
    if match is not None:
        metrics.exceptions_by_view.labels(view=match.view_name or "<unnamed view>").inc()


@read_only  # a scrape is a GET; any other method is a 405 problem, not a CSRF page
def metrics_view(request: HttpRequest) -> HttpResponse:
    """The exposition for Prometheus; behind `Authorization: Bearer $METRICS_TOKEN` if set."""
    token = settings.METRICS_TOKEN
    if token:
        scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(credential, token):
            response = problem_json_response(
                request, 401, "not-authenticated", "Send Authorization: Bearer <METRICS_TOKEN>."
            )
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    sample()  # this worker's gauges as of now; the others' are at most one interval old
    if multiprocess.configured_directory():
        registry = CollectorRegistry()
        StartupSafeMultiProcessCollector(registry)
    else:
        registry = REGISTRY
    # Negotiated: OpenMetrics when the scraper asks for it, else text format 0.0.4. (django-
    # prometheus' own view labels 0.0.4 text as version 1.0.0, which Prometheus 2.x ingests
    # nothing from: the live-Prometheus test caught it.)
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    with multiprocess.reading():  # no worker retired while the files are merged
        exposition = encoder(registry)
    return HttpResponse(exposition, content_type=content_type)
