"""Bounded database round trips (common/database.py), on real PostgreSQL through a proxy
that can stall."""

import time

import psycopg
import pytest
from django.db import connections

from common.database import DatabaseNotAnswering, bounded_connection_class
from tests.reliability.faultproxy import FaultProxy

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def connect(connection_class, port: int) -> psycopg.Connection:
    config = connections["default"].settings_dict
    return connection_class.connect(
        host="127.0.0.1",
        port=port,
        dbname=config["NAME"],
        user=config["USER"],
        password=config["PASSWORD"] or None,
        autocommit=True,
        connect_timeout=2,
    )


def test_a_stalled_round_trip_gives_up_at_the_bound_and_closes_the_connection():
    with FaultProxy() as proxy:
        connection = connect(bounded_connection_class(0.5), proxy.port)
        assert connection.execute("SELECT 1").fetchone() == (1,)
        proxy.stall()
        started = time.monotonic()
        with pytest.raises(DatabaseNotAnswering, match=r"did not answer within 0\.5 s"):
            connection.execute("SELECT 1")
        assert 0.5 <= time.monotonic() - started < 1.5
        assert connection.broken  # its protocol state is unknown: never reused


def test_a_slow_statement_is_cancelled_by_the_server_and_the_connection_survives():
    """The server's statement_timeout fires first; the client's bound is only the backstop."""
    with FaultProxy() as proxy:
        connection = connect(bounded_connection_class(2.0), proxy.port)
        connection.execute("SET statement_timeout = 200")
        with pytest.raises(psycopg.errors.QueryCanceled):
            connection.execute("SELECT pg_sleep(1)")
        assert connection.execute("SELECT 1").fetchone() == (1,)


def test_the_bound_covers_the_whole_round_trip_not_each_read():
    """A live server that takes longer than the bound is given up on too: the bound sits
    above the server's statement_timeout (intelliflow/settings/database.py) so the server
    normally answers first."""
    connection = connect(
        bounded_connection_class(0.5), int(connections["default"].settings_dict["PORT"])
    )
    assert connection.execute("SELECT pg_sleep(0.2), 1").fetchone()[1] == 1
    with pytest.raises(DatabaseNotAnswering):
        connection.execute("SELECT pg_sleep(2)")


def test_a_deadline_of_the_callers_own_is_left_to_psycopg():
    """`notifies(timeout=...)` ends quietly when its deadline passes: the connection's bound
    applies only where the caller gave none, and the connection stays usable."""
    connection = connect(
        bounded_connection_class(0.5), int(connections["default"].settings_dict["PORT"])
    )
    connection.execute("LISTEN compat_test")
    assert list(connection.notifies(timeout=0.2)) == []
    assert connection.execute("SELECT 1").fetchone() == (1,)
