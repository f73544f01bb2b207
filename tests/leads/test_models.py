"""The database itself enforces the lead invariants, whatever code path writes."""

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from leads.models import Lead


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
