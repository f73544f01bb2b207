"""observability.db.postgresql: Django's backend with django-prometheus' connection metrics."""

import pytest
from django.db import OperationalError, connection, connections
from django.db.backends.postgresql import base as django_postgresql
from prometheus_client import REGISTRY

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def value(name: str) -> float:
    labels = {"alias": "default", "vendor": connection.vendor}
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_each_new_connection_is_counted_and_failures_too(monkeypatch):
    connection.close()
    before = value("django_db_new_connections_total")
    connection.ensure_connection()
    assert value("django_db_new_connections_total") == before + 1

    def refused(self, conn_params):
        raise OperationalError("connection refused")

    errors = value("django_db_new_connection_errors_total")
    monkeypatch.setattr(django_postgresql.DatabaseWrapper, "get_new_connection", refused)
    with pytest.raises(OperationalError):
        connection.get_new_connection({})
    assert value("django_db_new_connection_errors_total") == errors + 1


def test_the_backend_is_djangos_with_no_django_prometheus_class_in_between():
    from django_prometheus.db.backends.postgresql import base as prometheus_postgresql

    wrapper = connections["default"]
    assert isinstance(wrapper, django_postgresql.DatabaseWrapper)
    assert not isinstance(wrapper, prometheus_postgresql.DatabaseWrapper)
