"""Database outages, bounded: no call waits on PostgreSQL forever, and one answer for all of them.

A network stall or a hung server is invisible to TCP on the client's side (the peer's kernel
still acknowledges), so neither keepalives nor libpq's `tcp_user_timeout` end the wait, and a
server-side `statement_timeout` cannot fire for a query the server never received. psycopg 3
waits for the server in Python (`Connection.wait`), which takes a deadline: `BoundedConnection`
passes one wherever the caller did not. When it expires the protocol state is unknown (a query
may be half sent), so the connection is closed and the caller gets an `OperationalError` like
any lost connection. Settings give the app's pooled connections `DB_STATEMENT_TIMEOUT` plus
a second; the health probes use a shorter bound of their own.

A connection that turns out broken usually means its idle siblings in the pool are broken
too (same server, same network path), so the pool is drained: they are replaced in the
background instead of failing the next requests one by one. Public API only: the clock tells
that the deadline expired, and Django's connection handler which pool the connection is from.

`UNAVAILABLE_ERRORS` is what common.problems answers with 503 and Retry-After.
"""

import time
import weakref

import psycopg
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections

# Connection lost or refused, pool exhausted or unable to connect (psycopg_pool.PoolTimeout is
# a psycopg.OperationalError), statement timeout, server shutting down, too many connections.
# Django wraps driver errors raised through its cursors; the raw ones come from the pool.
UNAVAILABLE_ERRORS = (OperationalError, InterfaceError, psycopg.OperationalError,
                      psycopg.InterfaceError)  # fmt: skip


class DatabaseNotAnswering(psycopg.OperationalError):
    """The server did not answer within the connection's bound; the connection is closed."""


class BoundedConnection(psycopg.Connection):
    """A psycopg connection whose every round trip gives up after `wait_timeout` seconds."""

    wait_timeout: float | None = None

    def wait(self, gen, *args, timeout: float | None = None, **kwargs):
        if timeout is not None:
            # The caller's own deadline (e.g. `notifies(timeout=...)`) and its own handling.
            return super().wait(gen, *args, timeout=timeout, **kwargs)
        bound = self.wait_timeout
        started = time.monotonic()
        try:
            return super().wait(gen, *args, timeout=bound, **kwargs)
        except psycopg.OperationalError:
            # psycopg says a deadline expired only with a private OperationalError subclass;
            # the public signal is the clock: it raised at or after the bound.
            if bound is not None and time.monotonic() - started >= bound:
                self.pgconn.finish()
                drain_pool_of(self)
                raise DatabaseNotAnswering(
                    f"the database server did not answer within {bound:g} s; connection closed"
                ) from None
            if self.broken:
                drain_pool_of(self)
            raise


def drain_pool_of(connection: psycopg.Connection) -> None:
    """Drain the Django connection pool `connection` was checked out from, if any.

    Django holds a checked-out connection as `DatabaseWrapper.connection` of this thread and
    its pool as `DatabaseWrapper.pool`: both public. Only failures pay for the look-up.
    """
    from django.db import connections

    for wrapper in connections.all(initialized_only=True):
        if wrapper.connection is connection:
            pool = getattr(wrapper, "pool", None)  # None: not pooled (or not PostgreSQL)
            if pool is not None:
                pool.drain()
            return


def bounded_connection_class(wait_timeout: float | None) -> type[BoundedConnection]:
    """A BoundedConnection subclass with this bound (None: wait as long as the server takes)."""
    return type("BoundedConnection", (BoundedConnection,), {"wait_timeout": wait_timeout})


class CompiledLookup:
    """One row by one value, with the SQL the ORM compiled once per connection.

    Building and compiling a QuerySet (`filter()`, `get()`: lookups resolved, joins set up,
    SQL generated) costs more than PostgreSQL's answer to a lookup by key, and the hottest
    lookups (every API request's token, a lead by id) compile the same SQL every time. Here
    `build(value)` says the query as a QuerySet; it is compiled on first use per connection
    and then only run: the value is prepared by the field it is compared with (its
    `get_db_prep_value`, as the lookup would), the statement runs on Django's own cursor (so
    its execute wrappers, metrics and traces see it like any query), and the row becomes a
    model instance through `Model.from_db()` after the compiler's own converters, as a
    QuerySet would make it; deferred fields stay deferred. Bypassed: QuerySet construction
    and SQL compilation, nothing a result depends on (`build` must not depend on anything but
    its argument, and the lookup must be on a unique field: `get()` returns the first row).
    It is compiled with the first value asked for, which it then takes as its only parameter.
    It reads the compiler's `select`, `klass_info` and `get_converters()`, the parts of
    SQLCompiler a QuerySet's own iterator uses (internal, stable since Django 2.0);
    tests/common/test_compiled_lookup.py compares its instances with a QuerySet's on
    SQLite and PostgreSQL.
    """

    def __init__(self, build, field):
        # Per connection wrapper (Django has one per alias and thread; the converters may be
        # its methods), dropped with it.
        self._build, self._field, self._compiled = build, field, weakref.WeakKeyDictionary()

    def _compile(self, connection, value):
        from django.db.models.query import ModelIterable

        queryset = self._build(value)
        compiler = queryset.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        if len(params) != 1:
            raise ValueError(f"a CompiledLookup takes one value, its query has {len(params)}")
        columns = [column for column, _, _ in compiler.select]
        model = compiler.query.model
        if (queryset._iterable_class is not ModelIterable  # values(), values_list()
                or compiler.klass_info.get("related_klass_infos")  # select_related()
                or any(getattr(column, "target", None) is None  # annotations
                       or column.target.model is not model for column in columns)):  # fmt: skip
            raise ValueError("a CompiledLookup makes instances of its model's own columns only")
        compiled = (sql, model, [c.target.attname for c in columns],
                    tuple(compiler.get_converters(columns).items()))  # fmt: skip
        self._compiled[connection] = compiled
        return compiled

    def get(self, value, using: str = DEFAULT_DB_ALIAS):
        """The instance whose field equals `value`, or None."""
        connection = connections[using]
        try:
            sql, model, field_names, converters = self._compiled[connection]
        except KeyError:
            sql, model, field_names, converters = self._compile(connection, value)
        with connection.cursor() as cursor:
            cursor.execute(sql, [self._field.get_db_prep_value(value, connection)])
            row = cursor.fetchone()
        if row is None:
            return None
        if converters:  # what SQLCompiler.apply_converters() does for a QuerySet
            row = list(row)
            for position, (functions, expression) in converters:
                for convert in functions:
                    row[position] = convert(row[position], expression, connection)
        return model.from_db(using, field_names, row)
