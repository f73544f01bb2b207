"""The database itself enforces the lead invariants, whatever code path writes."""

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from leads.models import Lead
from tests.factories import LeadFactory


@pytest.mark.django_db
class TestEmailUniqueness:
    def test_same_email_in_another_case_is_refused_by_the_database(self, lead_factory):
        lead_factory(email="Ada@Example.com")
        with pytest.raises(IntegrityError), transaction.atomic():
            # bulk_create skips model validation: this is the constraint alone.
            Lead.objects.bulk_create([Lead(first_name="A", last_name="B", email="ada@EXAMPLE.com")])
        assert Lead.objects.count() == 1

    def test_soft_deleted_lead_frees_its_email(self, lead_factory):
        lead_factory(email="ada@example.com", deleted_at=timezone.now())
        Lead.objects.bulk_create([Lead(first_name="A", last_name="B", email="ADA@example.com")])
        assert Lead.objects.filter(email__iexact="ada@example.com").count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("score", [-1, 101, 32767])
def test_score_outside_0_to_100_is_refused_by_the_database(lead, score):
    with pytest.raises(IntegrityError), transaction.atomic():
        Lead.objects.filter(pk=lead.pk).update(score=score)
    lead.refresh_from_db()
    assert 0 <= lead.score <= 100


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "value"), [("status", "won"), ("source", "tv")])
def test_unknown_status_or_source_is_refused_by_the_database(lead, field, value):
    with pytest.raises(IntegrityError), transaction.atomic():
        Lead.objects.filter(pk=lead.pk).update(**{field: value})


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgres_holds_the_partial_expression_index(lead):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'leads_lead_email_ci_unique_active'"
        )
        (definition,) = cursor.fetchone()
    assert "UNIQUE" in definition
    assert "lower((email)::text)" in definition
    assert "WHERE (deleted_at IS NULL)" in definition


class TestLoadingFromTheDatabase:
    """Lead.from_db skips Model.__init__ for whole rows; the instance is Django's own."""

    def test_a_loaded_lead_equals_what_django_would_make(self, db):
        from django.db.models import Model

        lead = LeadFactory(notes="n", score=12)
        fields = Lead._meta.concrete_fields
        loaded = Lead.objects.get(pk=lead.pk)
        row = [getattr(loaded, field.attname) for field in fields]
        django_way = Model.from_db.__func__(Lead, "default", [f.attname for f in fields], row)
        assert type(loaded) is Lead
        assert loaded.__dict__.keys() - {"_state"} == django_way.__dict__.keys() - {"_state"}
        assert {f.attname: getattr(loaded, f.attname) for f in fields} == {
            f.attname: getattr(django_way, f.attname) for f in fields
        }
        assert (loaded._state.adding, loaded._state.db) == (False, "default")
        assert loaded.get_deferred_fields() == set()
        loaded.notes = "changed"
        loaded.save(update_fields=["notes"])  # a loaded lead saves as an UPDATE
        assert Lead.objects.get(pk=lead.pk).notes == "changed"

    def test_partial_rows_and_init_listeners_take_djangos_way(self, db):
        from django.db.models.signals import post_init

        lead = LeadFactory(email="deferred@example.com")
        partial = Lead.objects.only("id", "first_name").get(pk=lead.pk)
        assert "email" in partial.get_deferred_fields()
        assert partial.email == "deferred@example.com"  # loaded on first access
        seen = []

        def listener(sender, instance, **kwargs):
            seen.append(instance)

        post_init.connect(listener, sender=Lead)
        try:
            loaded = Lead.objects.get(pk=lead.pk)
        finally:
            post_init.disconnect(listener, sender=Lead)
        assert seen == [loaded]
