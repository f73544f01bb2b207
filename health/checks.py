"""The health checks: small django-health-check 4.x `HealthCheck` subclasses.

Each `run()` raises `ServiceUnavailable` (fail) or `ServiceWarning` (warn), as the library
expects, and records what it saw in `self.observations` (measurement → Observation) for the
health+json body. What a check talks to is a field, so tests can point it elsewhere.

The database checks use their own probe connection (`ProbeConnections`, opened with a connect
timeout) instead of borrowing the app's pooled one: a probe must never wait behind (or wedge)
the pool, and a server that accepts TCP but never answers must cost the probe a timeout, not
a worker.
"""

import dataclasses
import os
import threading
import time
from typing import ClassVar

from django.conf import settings
from django.db import DatabaseError, connections
from django.db.migrations.loader import MigrationLoader
from health_check import HealthCheck
from health_check.exceptions import ServiceUnavailable, ServiceWarning

from common.database import bounded_connection_class
from health import draining

PROCESS_STARTED = time.time()  # module import happens as the worker loads the app
# libpq counts connect_timeout in whole seconds and treats anything under 2 as 2.
CONNECT_TIMEOUT_SECONDS = 2
# Session settings for the probe connection: it reads nothing and may write nothing.
PROBE_OPTIONS = "-c statement_timeout=1000 -c default_transaction_read_only=on"
PROBE_CONNECTION_CLASS = bounded_connection_class(CONNECT_TIMEOUT_SECONDS)


@dataclasses.dataclass(frozen=True)
class Observation:
    value: float | int | bool | str | None
    unit: str = ""


class ObservingCheck(HealthCheck):
    """What our checks add to the library's: a component name, a title for people (the status
    page's row name: unlike `component`, which several checks share, it names one check) and what
    was observed."""

    component: ClassVar[str]
    title: ClassVar[str]
    component_type: ClassVar[str] = "component"
    observations: dict[str, Observation]

    def observe(self, measurement: str, value, unit: str = "") -> None:
        if not hasattr(self, "observations"):
            self.observations = {}
        self.observations[measurement] = Observation(value, unit)


def postgres_params(alias: str) -> dict:
    """libpq parameters of a Django database alias (its test name included, under tests)."""
    config = connections[alias].settings_dict
    params = {
        "dbname": config["NAME"],
        "user": config["USER"] or None,
        "password": config["PASSWORD"] or None,
        "host": config["HOST"] or None,
        "port": config["PORT"] or None,
    }
    for name in ("sslmode", "sslrootcert", "sslcert", "sslkey", "passfile", "service"):
        if name in config["OPTIONS"]:
            params[name] = config["OPTIONS"][name]
    return {name: value for name, value in params.items() if value is not None}


def is_postgres(alias: str) -> bool:
    return connections[alias].vendor == "postgresql"


class ProbeConnections:
    """One idle probe connection kept per database and process, reused by the next probe.

    A probe takes the idle connection, or opens a fresh one (bounded by connect_timeout) when
    there is none: a probe never queues behind another, not even behind one that hangs on a
    dead server. A reused connection that fails is replaced once by a fresh one, so a database
    restart costs no failed probe.
    """

    def __init__(self):
        self._idle: dict[tuple, object] = {}
        self._lock = threading.Lock()

    def _key(self, params: dict) -> tuple:
        return (os.getpid(), *sorted(params.items()))

    def _connect(self, params: dict):
        # Each round trip is bounded too: a reused connection on a stalled network would
        # otherwise hold a check thread forever (the probe answers at its deadline anyway,
        # but the pool of check threads would run dry, one stall at a time).
        return PROBE_CONNECTION_CLASS.connect(
            **params,
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            options=PROBE_OPTIONS,
            autocommit=True,
            application_name="intelliflow-health",
        )

    def run(self, params: dict, query: str) -> list[tuple]:
        import psycopg

        key = self._key(params)
        with self._lock:
            connection = self._idle.pop(key, None)
        if connection is not None:
            try:
                rows = connection.execute(query).fetchall()
            except psycopg.Error:
                connection.close()  # stale (server restarted?): one fresh try below
            else:
                self._keep(key, connection)
                return rows
        connection = self._connect(params)
        try:
            rows = connection.execute(query).fetchall()
        except BaseException:
            connection.close()
            raise
        self._keep(key, connection)
        return rows

    def close_all(self) -> None:
        with self._lock:
            idle, self._idle = list(self._idle.values()), {}
        for connection in idle:
            connection.close()

    def _keep(self, key: tuple, connection) -> None:
        with self._lock:
            if key not in self._idle:
                self._idle[key] = connection
                return
        connection.close()


probe_connections = ProbeConnections()


def probe_query(alias: str, connection_params: dict | None, query: str) -> list[tuple]:
    """Rows of a read-only query on a probe connection (PostgreSQL), or on the thread's own
    Django connection (SQLite, where nothing can hang on a network)."""
    if connection_params is None and not is_postgres(alias):
        connection = connections[alias]
        try:
            with connection.cursor() as cursor:
                cursor.execute(query)
                return cursor.fetchall()
        finally:
            connection.close()
    params = connection_params if connection_params is not None else postgres_params(alias)
    return probe_connections.run(params, query)


def _database_error(error: Exception) -> ServiceUnavailable:
    # First line only: libpq's detail lines can be long; neither holds the password.
    return ServiceUnavailable(f"{type(error).__name__}: {str(error).splitlines()[0][:200]}")


@dataclasses.dataclass
class DatabaseCheck(ObservingCheck):
    """`SELECT 1` on a fresh connection; warn when the round trip is slow."""

    alias: str = "default"
    connection_params: dict | None = dataclasses.field(default=None, repr=False)
    warn_after_ms: float = 200.0

    title: ClassVar[str] = "Database connection"
    component: ClassVar[str] = "database"
    component_type: ClassVar[str] = "datastore"

    def run(self) -> None:
        import psycopg

        started = time.perf_counter()
        try:
            rows = probe_query(self.alias, self.connection_params, "SELECT 1")
        except (psycopg.Error, DatabaseError) as error:
            raise _database_error(error) from error
        elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
        self.observe("responseTime", elapsed_ms, "ms")
        if [tuple(row) for row in rows] != [(1,)]:
            raise ServiceUnavailable("SELECT 1 did not return 1")
        if elapsed_ms > self.warn_after_ms:
            raise ServiceWarning(f"slow: {elapsed_ms} ms (warn above {self.warn_after_ms:g} ms)")


@dataclasses.dataclass
class MigrationsCheck(ObservingCheck):
    """Every migration on disk is applied. Once true it stays true for this code, so a
    process asks the database only until the first pass."""

    alias: str = "default"
    connection_params: dict | None = dataclasses.field(default=None, repr=False)

    title: ClassVar[str] = "Migrations applied"
    component: ClassVar[str] = "database"
    component_type: ClassVar[str] = "datastore"
    _confirmed: ClassVar[set[str]] = set()
    _disk_migrations: ClassVar[set[tuple[str, str]] | None] = None
    _lock: ClassVar[threading.Lock] = threading.Lock()

    @classmethod
    def disk_migrations(cls) -> set[tuple[str, str]]:
        with cls._lock:
            if cls._disk_migrations is None:
                cls._disk_migrations = set(MigrationLoader(None).graph.nodes)
            return cls._disk_migrations

    def run(self) -> None:
        import psycopg

        if self.connection_params is None and self.alias in self._confirmed:
            self.observe("pendingMigrations", 0)
            return
        try:
            rows = probe_query(
                self.alias, self.connection_params, "SELECT app, name FROM django_migrations"
            )
            applied = {tuple(row) for row in rows}
        except (psycopg.Error, DatabaseError) as error:
            raise _database_error(error) from error
        pending = len(self.disk_migrations() - applied)
        self.observe("pendingMigrations", pending)
        if pending:
            raise ServiceUnavailable(f"{pending} migrations not applied: run `manage.py migrate`")
        if self.connection_params is None:
            self._confirmed.add(self.alias)


@dataclasses.dataclass
class DatabasePoolCheck(ObservingCheck):
    """This worker's psycopg pool (Django's "pool" option): warn when nearly exhausted."""

    alias: str = "default"
    warn_ratio: float = 0.9

    title: ClassVar[str] = "Database connection pool"
    component: ClassVar[str] = "databasePool"
    component_type: ClassVar[str] = "datastore"

    def run(self) -> None:
        pool = getattr(connections[self.alias], "pool", None)
        if pool is None:
            self.observe("utilization", None)
            return
        stats = pool.get_stats()
        in_use = stats.get("pool_size", 0) - stats.get("pool_available", 0)
        maximum = stats.get("pool_max", 1)
        waiting = stats.get("requests_waiting", 0)
        self.observe("utilization", round(100 * in_use / maximum, 1), "%")
        self.observe("waiting", waiting)
        if waiting or in_use >= self.warn_ratio * maximum:
            raise ServiceWarning(f"{in_use} of {maximum} connections in use, {waiting} waiting")


def resident_memory_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@dataclasses.dataclass
class ProcessCheck(ObservingCheck):
    """The process itself: uptime, resident memory, threads; fails only over a memory limit."""

    max_rss_bytes: int | None = None

    title: ClassVar[str] = "Worker process"
    component: ClassVar[str] = "process"
    component_type: ClassVar[str] = "system"

    def run(self) -> None:
        rss = resident_memory_bytes()
        self.observe("uptime", round(time.time() - PROCESS_STARTED, 1), "s")
        self.observe("residentMemory", rss, "bytes")
        self.observe("threads", threading.active_count())
        if self.max_rss_bytes and rss > self.max_rss_bytes:
            raise ServiceUnavailable(f"resident memory {rss} bytes over {self.max_rss_bytes}")


@dataclasses.dataclass
class DrainingCheck(ObservingCheck):
    """Not ready once SIGTERM arrived: the worker is draining before it exits."""

    title: ClassVar[str] = "Shutdown drain"
    component: ClassVar[str] = "process"
    component_type: ClassVar[str] = "system"

    def run(self) -> None:
        self.observe("draining", draining.is_draining())
        if draining.is_draining():
            raise ServiceUnavailable("draining after SIGTERM; about to exit")


def cache_checks() -> list[HealthCheck]:
    """The library's Cache check, for a shared cache only (a local-memory one needs none)."""
    from health_check import Cache

    backend = settings.CACHES["default"]["BACKEND"]
    if backend.endswith(("LocMemCache", "DummyCache")):
        return []
    return [Cache()]


def ready_checks() -> list[HealthCheck]:
    return [DrainingCheck(), DatabaseCheck(), MigrationsCheck(), *cache_checks()]


def all_checks() -> list[HealthCheck]:
    return [
        DrainingCheck(),
        DatabaseCheck(warn_after_ms=settings.HEALTH_DATABASE_WARN_MS),
        MigrationsCheck(),
        DatabasePoolCheck(warn_ratio=settings.HEALTH_POOL_WARN_RATIO),
        ProcessCheck(max_rss_bytes=settings.HEALTH_MAX_RSS_BYTES),
        *cache_checks(),
    ]
