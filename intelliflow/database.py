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

`UNAVAILABLE_ERRORS` is what intelliflow.problems answers with 503 and Retry-After.
"""

import time

import psycopg
from django.db import InterfaceError, OperationalError

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
