"""The project's PostgreSQL backend reads timestamps with psycopg's compiled loader, and what it
reads is exactly what Django's own loader reads: the same instants, the same tzinfo object."""

import datetime

import psycopg
import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import get_adapters_template
from django.utils import timezone
from psycopg.pq import Format

from common.db.postgresql.base import (
    COMPILED,
    TIMESTAMPTZ_OID,
    UTC_ADAPTERS,
    DatabaseWrapper,
    UtcTimestamptzLoader,
)
from tests.factories import LeadFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not COMPILED, reason="pure-Python psycopg: Django's loader stays"),
]

# Written with various offsets and precisions; PostgreSQL stores the instant, and the session
# (UTC, as Django sets it) sends it back in UTC.
LITERALS = [
    "2026-12-03 04:05:06+00",
    "2026-12-03 04:05:06.000001+00",
    "2026-12-03 04:05:06.999999+00",
    "2026-03-29 02:30:00+02",
    "2026-10-25 02:30:00+05:30",
    "2024-02-29 23:59:59.5-08",
    "0001-01-01 00:00:00+00",
    "9999-12-31 23:59:59.999999+00",
    "1969-12-31 23:59:59.123-03:30",
]


def conninfo() -> dict:
    params = connection.get_connection_params()
    return {k: v for k, v in params.items() if k not in ("cursor_factory", "context")}


def read_all(context) -> list[datetime.datetime]:
    with psycopg.connect(**conninfo(), context=context, autocommit=True) as raw:
        raw.execute("SET TIME ZONE 'UTC'")
        query = "SELECT value::timestamptz FROM unnest(%s::text[]) WITH ORDINALITY AS t(value, n)"
        return [row[0] for row in raw.execute(query + " ORDER BY n", [LITERALS])]


def test_the_compiled_loader_reads_what_djangos_reads():
    django_values = read_all(get_adapters_template(True, datetime.UTC))
    ours = read_all(UTC_ADAPTERS)
    assert ours == django_values
    assert [value.isoformat() for value in ours] == [value.isoformat() for value in django_values]
    assert all(value.tzinfo is datetime.UTC for value in ours)
    assert all(value.tzinfo is datetime.UTC for value in django_values)


def test_the_loader_in_use_is_compiled_not_djangos():
    loader = UTC_ADAPTERS.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
    assert loader is UtcTimestamptzLoader
    # psycopg-binary's compiled class, not the pure-Python one Django subclasses
    assert type(UtcTimestamptzLoader(TIMESTAMPTZ_OID)._load.__self__).__module__.startswith(
        "psycopg_binary"
    )


@pytest.mark.django_db
def test_the_orm_reads_aware_utc_datetimes_through_it():
    created = LeadFactory()
    connection.ensure_connection()
    assert connection.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT) is (
        UtcTimestamptzLoader
    )
    with connection.cursor() as cursor:  # Django's create_cursor() keeps it (same timezone)
        assert cursor.cursor.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT) is (
            UtcTimestamptzLoader
        )
    read = type(created).objects.get(pk=created.pk)
    assert read.created_at == created.created_at
    assert read.created_at.tzinfo is datetime.UTC
    assert timezone.is_aware(read.updated_at)


@pytest.mark.parametrize(
    ("use_tz", "database_time_zone", "ours"),
    [(True, None, True), (True, "Europe/Paris", False), (True, "UTC", False), (False, None, False)],
)
def test_only_a_utc_session_gets_it(settings, use_tz, database_time_zone, ours):
    settings.USE_TZ = use_tz
    wrapper = DatabaseWrapper({**connection.settings_dict, "TIME_ZONE": database_time_zone})
    context = wrapper.get_connection_params()["context"]
    assert (context is UTC_ADAPTERS) is ours
