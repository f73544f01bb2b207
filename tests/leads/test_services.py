"""The write services: validation, the status pipeline and all-or-nothing imports."""

import itertools

import pytest
from django.core.exceptions import ValidationError

from common.problems import ConflictError
from leads import services
from leads.models import ALLOWED_TRANSITIONS, Lead, LeadStatus
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ALL_MOVES = list(itertools.product(LeadStatus.values, repeat=2))


def valid_row(number: int) -> dict:
    return {"first_name": "Row", "last_name": str(number), "email": f"row{number}@import.example"}


class TestLeadCreate:
    def test_creates_with_audit_fields(self, user):
        lead = services.lead_create(
            actor=user, first_name="Ada", last_name="Lovelace", email="ada@example.com"
        )
        assert lead.status == LeadStatus.NEW
        assert lead.created_by == user == lead.updated_by

    def test_duplicate_email_in_any_case_names_the_field(self, lead_factory, user):
        lead_factory(email="ada@example.com")
        with pytest.raises(ValidationError) as caught:
            services.lead_create(actor=user, first_name="A", last_name="B", email="ADA@Example.COM")
        assert list(caught.value.message_dict) == ["email"]
        assert Lead.objects.count() == 1

    def test_duplicate_email_in_an_equivalent_spelling_names_the_field(self, lead_factory, user):
        lead_factory(email="ada@b\u00fccher.example")
        with pytest.raises(ValidationError) as caught:
            services.lead_create(
                actor=user, first_name="A", last_name="B", email="ada@xn--bcher-kva.example"
            )
        assert caught.value.message_dict == {"email": [services.DUPLICATE_EMAIL]}
        assert Lead.objects.count() == 1

    def test_inactive_owner_is_refused(self, user):
        inactive = UserFactory(is_active=False)
        with pytest.raises(ValidationError) as caught:
            services.lead_create(
                actor=user, first_name="A", last_name="B", email="a@b.example", owner=inactive
            )
        assert caught.value.message_dict == {"owner": [services.INACTIVE_OWNER]}
        assert not Lead.objects.exists()

    def test_email_of_a_soft_deleted_lead_can_be_reused(self, lead, user):
        services.lead_soft_delete(lead=lead, actor=user)
        again = services.lead_create(actor=user, first_name="A", last_name="B", email=lead.email)
        assert again.pk != lead.pk

    @pytest.mark.parametrize("score", [-1, 101])
    def test_score_out_of_range(self, user, score):
        with pytest.raises(ValidationError) as caught:
            services.lead_create(
                actor=user, first_name="A", last_name="B", email="a@b.example", score=score
            )
        assert "score" in caught.value.message_dict
        assert not Lead.objects.exists()

    def test_status_cannot_be_set_on_create(self, user):
        with pytest.raises(ValidationError) as caught:
            services.lead_create(
                actor=user, first_name="A", last_name="B", email="a@b.example", status="converted"
            )
        assert "status" in caught.value.message_dict


class TestLeadUpdate:
    def test_a_lead_whose_owner_left_stays_editable(self, lead_factory, user):
        lead = lead_factory(owner=UserFactory(is_active=False))
        services.lead_update(lead=lead, actor=user, data={"company": "Analytical"})
        assert Lead.objects.get(pk=lead.pk).company == "Analytical"

    def test_assigning_an_inactive_owner_is_refused(self, lead, user):
        with pytest.raises(ValidationError) as caught:
            services.lead_update(
                lead=lead, actor=user, data={"owner": UserFactory(is_active=False)}
            )
        assert caught.value.message_dict == {"owner": [services.INACTIVE_OWNER]}
        assert Lead.objects.get(pk=lead.pk).owner is None


class TestLeadTransition:
    @pytest.mark.parametrize(("from_status", "to_status"), ALL_MOVES)
    def test_every_move_is_allowed_or_refused_as_the_pipeline_says(
        self, lead_factory, user, from_status, to_status
    ):
        lead = lead_factory(status=from_status)
        before = Lead.objects.values().get(pk=lead.pk)
        if to_status in ALLOWED_TRANSITIONS[from_status]:
            moved = services.lead_transition(lead=lead, actor=user, to_status=to_status)
            assert Lead.objects.get(pk=lead.pk).status == moved.status == to_status
            assert (moved.converted_at is not None) == (to_status == LeadStatus.CONVERTED)
        else:
            with pytest.raises(ConflictError):
                services.lead_transition(lead=lead, actor=user, to_status=to_status)
            assert Lead.objects.values().get(pk=lead.pk) == before

    def test_converted_is_terminal(self):
        assert ALLOWED_TRANSITIONS[LeadStatus.CONVERTED] == frozenset()
        reachable = set().union(*ALLOWED_TRANSITIONS.values())
        assert LeadStatus.CONVERTED in reachable

    def test_deleted_lead_cannot_move(self, lead, user):
        services.lead_soft_delete(lead=lead, actor=user)
        with pytest.raises(ConflictError):
            services.lead_transition(lead=lead, actor=user, to_status=LeadStatus.CONTACTED)


class TestSoftDeleteAndRestore:
    def test_round_trip(self, lead, user):
        services.lead_soft_delete(lead=lead, actor=user)
        assert Lead.objects.get(pk=lead.pk).deleted_at is not None
        services.lead_restore(lead=Lead.objects.get(pk=lead.pk), actor=user)
        assert Lead.objects.get(pk=lead.pk).deleted_at is None

    def test_restore_refused_when_a_live_lead_took_the_email(self, lead, user):
        services.lead_soft_delete(lead=lead, actor=user)
        services.lead_create(actor=user, first_name="N", last_name="N", email=lead.email.upper())
        deleted = Lead.objects.get(pk=lead.pk)
        with pytest.raises(ConflictError):
            services.lead_restore(lead=deleted, actor=user)
        assert Lead.objects.get(pk=lead.pk).deleted_at is not None

    def test_restore_of_a_live_lead_is_a_conflict(self, lead, user):
        with pytest.raises(ConflictError):
            services.lead_restore(lead=lead, actor=user)


class TestLeadImport:
    def test_creates_every_row(self, user):
        leads = services.lead_import(actor=user, rows=[valid_row(n) for n in range(1, 11)])
        assert len(leads) == Lead.objects.count() == 10

    def test_bad_row_at_500_creates_nothing_and_is_reported_by_number(self, user):
        rows = [valid_row(n) for n in range(1, 1001)]
        rows[499] = {**rows[499], "email": "not-an-email"}
        with pytest.raises(services.LeadImportError) as caught:
            services.lead_import(actor=user, rows=rows)
        assert list(caught.value.errors) == ["500"]
        assert "email" in caught.value.errors["500"]
        assert not Lead.objects.exists()

    def test_reports_every_bad_row(self, lead_factory, user):
        lead_factory(email="taken@import.example")
        rows = [
            valid_row(1),
            {**valid_row(2), "score": "ninety"},
            {**valid_row(3), "email": "TAKEN@import.example"},
            {**valid_row(4), "email": "row1@IMPORT.example"},  # repeats row 1
            {**valid_row(5), "colour": "blue"},
            "not an object",
            {**valid_row(7), "first_name": {"nested": 1}},
        ]
        with pytest.raises(services.LeadImportError) as caught:
            services.lead_import(actor=user, rows=rows)
        errors = caught.value.errors
        assert sorted(errors, key=int) == ["2", "3", "4", "5", "6", "7"]
        assert set(errors["2"]) == {"score"}
        assert set(errors["3"]) == {"email"}
        assert set(errors["4"]) == {"email"}
        assert set(errors["5"]) == {"colour"}
        assert set(errors["6"]) == {"non_field_errors"}
        assert Lead.objects.count() == 1

    def test_inactive_owner_is_a_row_error_and_nothing_is_created(self, user):
        active, inactive = UserFactory(), UserFactory(is_active=False)
        rows = [
            {**valid_row(1), "owner": str(active.pk)},  # CSV cells are text
            {**valid_row(2), "owner": inactive.pk},
            {**valid_row(3), "owner": str(inactive.pk)},
            {**valid_row(4), "owner": 987654},  # unknown: full_clean's own message
            {**valid_row(5), "owner": ""},  # no owner
        ]
        with pytest.raises(services.LeadImportError) as caught:
            services.lead_import(actor=user, rows=rows)
        errors = caught.value.errors
        assert sorted(errors) == ["2", "3", "4"]
        assert errors["2"] == errors["3"] == {"owner": [services.INACTIVE_OWNER]}
        assert errors["4"]["owner"] != [services.INACTIVE_OWNER]
        assert not Lead.objects.exists()

    def test_more_than_1000_rows_is_refused(self, user):
        with pytest.raises(services.LeadImportError):
            services.lead_import(actor=user, rows=[valid_row(n) for n in range(1001)])
        assert not Lead.objects.exists()

    def test_empty_import_is_refused(self, user):
        with pytest.raises(services.LeadImportError):
            services.lead_import(actor=user, rows=[])
