"""Django's PostgreSQL backend, reading `timestamptz` columns with psycopg's compiled loader.

Django registers its own loader for `timestamptz` (`BaseTzLoader` in
django/db/backends/postgresql/psycopg_any.py): a subclass of psycopg's pure-Python loader that
parses the text in Python and then sets `tzinfo` to the connection's time zone. psycopg ships
a compiled loader for the same type (psycopg-binary), but Django's subclass replaces it, so
every timestamp read pays a Python parse: on a page of 50 leads, 100 of them, about a tenth of
the request (bench/RESULTS.md, "The API against its floor").

When Django keeps the session in UTC (USE_TZ with no per-database TIME_ZONE: Django's
`timezone_name` is "UTC" and it sets the session's TimeZone to it on every connection), the
compiled loader already returns exactly what Django's does: psycopg maps the session's "UTC"
to `datetime.timezone.utc` (psycopg/_tz.py), the object Django's loader sets. So this backend
registers the compiled loader, behind a small class that carries the `timezone` attribute
Django's `create_cursor()` compares. In any other time-zone configuration it is Django's
backend unchanged, and so it is with pure-Python psycopg (no compiled loader to gain).
tests/common/test_postgresql_backend.py compares both loaders value by value.
"""

import datetime

from django.db.backends.postgresql import base as django_postgresql
from django.db.backends.postgresql.psycopg_any import get_adapters_template
from psycopg import adapt, adapters, pq
from psycopg.pq import Format

TIMESTAMPTZ_OID = adapters.types["timestamptz"].oid
# psycopg's loader for the type: the compiled one with psycopg-binary (or psycopg-c).
COMPILED_LOADER = adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
COMPILED = pq.__impl__ in ("binary", "c")


class UtcTimestamptzLoader(adapt.Loader):
    """psycopg's own `timestamptz` loader, for sessions whose TimeZone is UTC."""

    # Django's create_cursor() registers its loader on a cursor whose connection's loader has
    # another `timezone`; this one matches Django's connection.timezone, so it stays.
    timezone = datetime.UTC

    def __init__(self, oid, context=None):
        super().__init__(oid, context)
        self._load = COMPILED_LOADER(oid, context).load

    def load(self, data):
        return self._load(data)


def utc_adapters_template():
    """Django's adapters for USE_TZ in UTC, with the compiled timestamptz loader."""
    template = adapt.AdaptersMap(get_adapters_template(True, datetime.UTC))
    template.register_loader("timestamptz", UtcTimestamptzLoader)
    return template


UTC_ADAPTERS = utc_adapters_template()


class DatabaseWrapper(django_postgresql.DatabaseWrapper):
    def get_connection_params(self):
        conn_params = super().get_connection_params()
        # Django's own UTC (USE_TZ with no per-database TIME_ZONE): a per-database
        # TIME_ZONE="UTC" is a ZoneInfo, which create_cursor() would find different.
        if COMPILED and self.timezone is datetime.UTC and self.timezone_name == "UTC":
            conn_params["context"] = UTC_ADAPTERS
        return conn_params
