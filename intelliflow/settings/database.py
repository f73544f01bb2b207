"""Database: DATABASE_URL, its engine (with or without metrics), the bounds on every wait, and
the connection pool or persistent connections."""

from intelliflow.settings.core import BASE_DIR
from intelliflow.settings.environment import env
from intelliflow.settings.metrics import METRICS_ENABLED

# --- Database ----------------------------------------------------------------------------------
# SQLite by default; PostgreSQL through DATABASE_URL=postgres://user:pass@host:5432/name.
# On PostgreSQL each worker keeps a psycopg connection pool (Django's native "pool" option),
# chosen over persistent connections by measurement (docs/operations.md, "Database connections").

DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DB_POOL_ENABLED = env.bool("DB_POOL_ENABLED", default=True)
# The engine for each engine DATABASE_URL can name (django-environ's, by its scheme): one
# without metrics, one with them (METRICS_ENABLED: django-prometheus' backends, the same engines
# with query and connection metrics). PostgreSQL has the project's own two: common.db.postgresql
# (Django's, reading timestamps with psycopg's compiled loader) and observability.db.postgresql
# (that, with django-prometheus' metrics and its cursor class built once). An engine not listed
# is DATABASE_URL's own.
_ENGINES = {
    "django.db.backends.postgresql": {
        "plain": "common.db.postgresql",
        "metrics": "observability.db.postgresql",
    },
    "django.db.backends.sqlite3": {
        "plain": "django.db.backends.sqlite3",
        "metrics": "django_prometheus.db.backends.sqlite3",
    },
    "django.db.backends.mysql": {
        "plain": "django.db.backends.mysql",
        "metrics": "django_prometheus.db.backends.mysql",
    },
}
_url_engine = DATABASES["default"]["ENGINE"]
if _url_engine in _ENGINES:
    DATABASES["default"]["ENGINE"] = _ENGINES[_url_engine][
        "metrics" if METRICS_ENABLED else "plain"
    ]

# No wait on PostgreSQL is unbounded (docs/operations.md, "When the database fails"):
# connecting gives up after DB_CONNECT_TIMEOUT (libpq counts whole seconds, at least 2), the
# server cancels a statement after DB_STATEMENT_TIMEOUT, and the client gives up one second
# later when the server cannot even do that (a stalled network or a hung server;
# common/database.py).
# 0 turns both statement bounds off, e.g. for a long migration; gunicorn's timeout remains.
DB_CONNECT_TIMEOUT = env.int("DB_CONNECT_TIMEOUT", default=3)
DB_STATEMENT_TIMEOUT = env.float("DB_STATEMENT_TIMEOUT", default=5.0)
if DATABASES["default"]["ENGINE"].endswith(".postgresql"):
    from common.database import bounded_connection_class

    db_options = DATABASES["default"].setdefault("OPTIONS", {})
    db_options.setdefault("connect_timeout", DB_CONNECT_TIMEOUT)
    # Keepalives find a peer that vanished (a dead host, a dropped NAT entry) while idle.
    db_options.setdefault("keepalives_idle", 30)
    db_options.setdefault("keepalives_interval", 10)
    db_options.setdefault("keepalives_count", 3)
    # Server-side parameter binding lets psycopg prepare a statement on a connection after its
    # DB_PREPARE_THRESHOLD-th run, so the server parses and plans the hot queries (token, lead,
    # page, count) once per connection instead of on every request. Both are Django's own
    # OPTIONS (off by default for transaction-pooling PgBouncer before 1.21, which cannot keep
    # a prepared statement on a server connection): DB_PREPARE_THRESHOLD=0 turns both off.
    DB_PREPARE_THRESHOLD = env.int("DB_PREPARE_THRESHOLD", default=5)
    if DB_PREPARE_THRESHOLD:
        db_options.setdefault("server_side_binding", True)
        db_options.setdefault("prepare_threshold", DB_PREPARE_THRESHOLD)
    if DB_STATEMENT_TIMEOUT:
        statement_timeout = f"-c statement_timeout={DB_STATEMENT_TIMEOUT * 1000:.0f}"
        db_options["options"] = f"{db_options.get('options', '')} {statement_timeout}".strip()
    if DB_POOL_ENABLED:
        db_options["pool"] = {
            "min_size": env.int("DB_POOL_MIN_SIZE", default=1),
            "max_size": env.int("DB_POOL_MAX_SIZE", default=4),
            "timeout": env.float("DB_POOL_TIMEOUT", default=5.0),
            "connection_class": bounded_connection_class(
                DB_STATEMENT_TIMEOUT + 1 if DB_STATEMENT_TIMEOUT else None
            ),
            # psycopg_pool retries a failed connect with a doubling back-off for this long
            # (default 5 minutes): the pool would stay empty for minutes after the database is
            # back. Giving up sooner lets the next request start a fresh attempt.
            "reconnect_timeout": 5.0,
        }
        DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool owns connection lifetime
    else:
        DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    # A connection that died while idle (the server restarted, a failover, an idle timeout) is
    # found before use and replaced, so a failover that already finished costs no failed
    # request. With the pool, Django passes psycopg_pool's check_connection (one empty round
    # trip per checkout); with persistent connections it checks at the start of a request.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
