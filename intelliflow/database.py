"""Database outages, bounded: no call waits on PostgreSQL forever, and one answer for all of them.

A network stall or a hung server is invisible to TCP on the client's side (the peer's kernel
still acknowledges), so neither keepalives nor libpq's `tcp_user_timeout` end the wait, and a
server-side `statement_timeout` cannot fire for a query the server never received. psycopg 3
waits for the server in Python (`Connection.wait`), which takes a deadline: `BoundedConnection`
always passes one. When it expires the protocol state is unknown (a query may be half sent),
so the connection is closed and the caller gets an `OperationalError` like any lost
connection. Settings give the app's pooled connections `DB_STATEMENT_TIMEOUT` plus a second;
the health probes use a shorter bound of their own.

A connection that turns out broken usually means its idle siblings in the pool are broken
too (same server, same network path), so the pool is drained: they are replaced in the
background instead of failing the next requests one by one.

`UNAVAILABLE_ERRORS` is what intelliflow.problems answers with 503 and Retry-After.
"""

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
        bound = self.wait_timeout if timeout is None else timeout
        try:
            return super().wait(gen, *args, timeout=bound, **kwargs)
        except psycopg.errors._WaitTimeout:  # private, but the only signal psycopg gives
            self.pgconn.finish()
            self._drain_pool()
            raise DatabaseNotAnswering(
                f"the database server did not answer within {bound:g} s; connection closed"
            ) from None
        except psycopg.OperationalError:
            if self.broken:
                self._drain_pool()
            raise

    def _drain_pool(self) -> None:
        pool = getattr(self, "_pool", None)  # set by psycopg_pool while checked out
        if pool is not None:
            pool.drain()


def bounded_connection_class(wait_timeout: float | None) -> type[BoundedConnection]:
    """A BoundedConnection subclass with this bound (None: wait as long as the server takes)."""
    return type("BoundedConnection", (BoundedConnection,), {"wait_timeout": wait_timeout})
