"""Django's PostgreSQL backend with django-prometheus' database metrics, counted more cheaply.

Same metrics as `django_prometheus.db.backends.postgresql` (django_db_execute_total,
django_db_execute_many_total, django_db_errors_total, django_db_query_duration_seconds,
django_db_new_connections_total, django_db_new_connection_errors_total), from the same
metric objects (`django_prometheus.db`), on Django's own backend, two costs fewer:
- it defines a new cursor class in every `get_connection_params()`, which Django calls on
  every `connect()`: with the connection pool, on every request. Each class takes tens of
  microseconds to build and becomes cyclic garbage. Ours is built once per (cursor class,
  alias, vendor).
- each query looked up its labelled children again (a lock and a dict per metric, three
  metrics). Ours binds them when the class is built.
It subclasses the project's PostgreSQL backend (common/db/postgresql: Django's, reading
timestamps with psycopg's compiled loader), not django-prometheus' (whose
`get_connection_params` would build the per-call class), so it uses only public API of both.
"""

import time

from django_prometheus.db import (
    connection_errors_total,
    connections_total,
    errors_total,
    execute_many_total,
    execute_total,
    query_duration_seconds,
)

from common.db.postgresql import base as common_postgresql

_cursor_classes: dict[tuple, type] = {}


def counting_cursor_class(cursor_class: type, alias: str, vendor: str) -> type:
    executed = execute_total.labels(alias, vendor)
    executed_many = execute_many_total.labels(alias, vendor)
    duration = query_duration_seconds.labels(alias, vendor)

    def count_error(error: Exception) -> None:
        errors_total.labels(alias, vendor, type(error).__name__).inc()

    class CountingCursor(cursor_class):
        def execute(self, *args, **kwargs):
            executed.inc()
            started = time.perf_counter()
            try:
                return super().execute(*args, **kwargs)
            except Exception as error:
                count_error(error)
                raise
            finally:
                duration.observe(time.perf_counter() - started)

        def executemany(self, query, params_seq, *args, **kwargs):
            params_seq = list(params_seq)
            executed.inc(len(params_seq))
            executed_many.inc(len(params_seq))
            started = time.perf_counter()
            try:
                return super().executemany(query, params_seq, *args, **kwargs)
            except Exception as error:
                count_error(error)
                raise
            finally:
                duration.observe(time.perf_counter() - started)

    return CountingCursor


class DatabaseWrapper(common_postgresql.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        # As django-prometheus' DatabaseWrapperMixin: with the pool, a connection checked out.
        connections_total.labels(self.alias, self.vendor).inc()
        try:
            return super().get_new_connection(conn_params)
        except Exception:
            connection_errors_total.labels(self.alias, self.vendor).inc()
            raise

    def get_connection_params(self):
        conn_params = super().get_connection_params()
        key = (conn_params["cursor_factory"], self.alias, self.vendor)
        cursor_class = _cursor_classes.get(key)
        if cursor_class is None:
            cursor_class = _cursor_classes[key] = counting_cursor_class(*key)
        conn_params["cursor_factory"] = cursor_class
        return conn_params
