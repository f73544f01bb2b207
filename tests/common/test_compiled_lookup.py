"""CompiledLookup (common/database.py): the ORM's SQL compiled once, the ORM's instance."""

import threading
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from common.database import CompiledLookup
from leads.models import Lead
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


def live_leads(lead_id):
    return Lead.objects.filter(deleted_at__isnull=True, pk=lead_id)


def concrete_values(instance):
    return {field.attname: getattr(instance, field.attname) for field in Lead._meta.concrete_fields}


def test_the_same_instance_as_the_queryset_on_this_database():
    lead = LeadFactory(owner=UserFactory(), notes="Ünïcödé\nnotes", score=73)
    lookup = CompiledLookup(live_leads, Lead._meta.pk)

    found = lookup.get(lead.pk)

    expected = Lead.objects.get(pk=lead.pk)
    assert type(found) is Lead
    assert concrete_values(found) == concrete_values(expected)
    assert found.created_at.tzinfo is not None  # the backend's converters ran (SQLite: text)
    assert isinstance(found.pk, uuid.UUID)
    assert (found._state.db, found._state.adding) == ("default", False)
    assert found.get_deferred_fields() == set()


def test_the_value_is_prepared_by_the_field_like_the_lookup_would():
    lead = LeadFactory()
    lookup = CompiledLookup(live_leads, Lead._meta.pk)
    assert lookup.get(str(lead.pk)).pk == lead.pk  # a string id, converted as filter() does


def test_no_row_is_none_and_the_querysets_filter_still_applies():
    deleted = LeadFactory(deleted_at=timezone.now())
    lookup = CompiledLookup(live_leads, Lead._meta.pk)
    assert lookup.get(uuid.uuid4()) is None
    assert lookup.get(deleted.pk) is None


def test_compiled_once_then_one_query_on_djangos_cursor():
    lead = LeadFactory()
    built = []

    def build(lead_id):
        built.append(lead_id)
        return live_leads(lead_id)

    lookup = CompiledLookup(build, Lead._meta.pk)
    with CaptureQueriesContext(connection) as queries:  # Django's cursor wrappers see it
        for _ in range(3):
            assert lookup.get(lead.pk).pk == lead.pk
    assert len(built) == 1
    assert len(queries) == 3
    assert all(str(lead.pk).replace("-", "") in q["sql"].replace("-", "") for q in queries)


def test_deferred_fields_stay_deferred_and_load_when_read():
    user = UserFactory(username="deferred", email="deferred@example.com")
    lookup = CompiledLookup(
        lambda pk: get_user_model().objects.filter(pk=pk).only("id", "is_active"),
        get_user_model()._meta.pk,
    )
    found = lookup.get(user.pk)
    assert "email" in found.get_deferred_fields()
    assert "password" in found.get_deferred_fields()
    with CaptureQueriesContext(connection) as queries:
        assert found.email == "deferred@example.com"
    assert len(queries) == 1


@pytest.mark.parametrize(
    "build",
    [
        lambda pk: Lead.objects.filter(pk=pk, score__gte=10),  # two values
        lambda pk: Lead.objects.filter(pk=pk).select_related("owner"),  # another model's row
        lambda pk: Lead.objects.filter(pk=pk).values("email"),  # not model instances
    ],
    ids=["two-values", "select-related", "values"],
)
def test_queries_it_cannot_run_faithfully_are_refused(build):
    with pytest.raises(ValueError, match="CompiledLookup"):
        CompiledLookup(build, Lead._meta.pk).get(uuid.uuid4())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_each_thread_uses_its_own_connection():
    """Django's connections are per thread: a statement compiled in one thread is never run on
    another thread's connection."""
    lead = LeadFactory()
    lookup = CompiledLookup(live_leads, Lead._meta.pk)
    assert lookup.get(lead.pk).pk == lead.pk
    seen, errors = [], []

    def read():
        try:
            seen.append(lookup.get(lead.pk).pk)
        except Exception as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert seen == [lead.pk] * 4
