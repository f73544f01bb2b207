"""Database figures for operators (/health/db-stats): server, pool, activity, counters."""

import sqlite3
from pathlib import Path

from django.db.backends.base.base import BaseDatabaseWrapper

COUNTERS = (
    "xact_commit", "xact_rollback", "blks_read", "blks_hit", "tup_returned", "tup_fetched",
    "tup_inserted", "tup_updated", "tup_deleted", "conflicts", "deadlocks", "temp_bytes",
)  # fmt: skip


def database_stats(connection: BaseDatabaseWrapper) -> dict:
    if connection.vendor == "postgresql":
        return _postgres_stats(connection)
    return _sqlite_stats(connection)


def _pool_stats(connection) -> dict | None:
    pool = getattr(connection, "pool", None)
    if pool is None:
        return None
    stats = pool.get_stats()
    return {"in_use": stats.get("pool_size", 0) - stats.get("pool_available", 0), **stats}


def _postgres_stats(connection) -> dict:
    with connection.cursor() as cursor:
        # Bounded like the probes: an operator page must not hang a worker either.
        cursor.execute("SET statement_timeout = 2000")
        try:
            cursor.execute("SHOW server_version")
            (server_version,) = cursor.fetchone()
            cursor.execute("SELECT current_database(), pg_database_size(current_database())")
            name, size = cursor.fetchone()
            cursor.execute(
                "SELECT coalesce(state, 'unknown'), count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() GROUP BY 1 ORDER BY 1"
            )
            by_state = dict(cursor.fetchall())
            cursor.execute(
                f"SELECT {', '.join(COUNTERS)} FROM pg_stat_database "  # noqa: S608 - fixed names
                "WHERE datname = current_database()"
            )
            counters = dict(zip(COUNTERS, cursor.fetchone(), strict=True))
        finally:
            cursor.execute("RESET statement_timeout")
    return {
        "status": "pass",
        "database": {
            "vendor": "postgresql",
            "serverVersion": server_version,
            "name": name,
            "sizeBytes": size,
        },
        "pool": _pool_stats(connection),
        "connectionsByState": by_state,
        "counters": counters,
    }


def _sqlite_stats(connection) -> dict:
    name = str(connection.settings_dict["NAME"])
    path = Path(name)
    return {
        "status": "pass",
        "database": {
            "vendor": connection.vendor,
            "serverVersion": sqlite3.sqlite_version,
            "name": name,
            "sizeBytes": path.stat().st_size if path.is_file() else None,
        },
        "pool": None,
        "connectionsByState": None,
        "counters": None,
        "note": "Pool, activity and counters need PostgreSQL (DATABASE_URL=postgres://...).",
    }
