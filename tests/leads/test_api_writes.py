"""The leads REST API as a client sees it, writing one lead: create, update, delete and
restore, status transitions: status codes, problem bodies, and what got written."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads.models import Lead, LeadStatus
from leads.services import DUPLICATE_EMAIL
from tests.leads.api import EQUIVALENT_SPELLINGS, LEADS, assert_problem, detail_url, new_lead

pytestmark = pytest.mark.django_db


class TestCreate:
    def test_creates_and_returns_201(self, api_client, user):
        response = api_client.post(LEADS, new_lead(score=70, source="referral"))
        assert response.status_code == 201
        body = response.json()
        assert body["status"] == "new"
        assert body["allowed_transitions"] == ["contacted", "lost", "qualified", "unqualified"]
        lead = Lead.objects.get(pk=body["id"])
        assert (lead.score, lead.source, lead.created_by) == (70, "referral", user)

    def test_reads_only_the_token_and_the_email_rule_before_writing(self, api_client):
        """No existence check for the actor (just authenticated) or the new uuid4 id."""
        with CaptureQueriesContext(connection) as queries:
            assert api_client.post(LEADS, new_lead()).status_code == 201
        selects = [q["sql"] for q in queries if q["sql"].startswith("SELECT")]
        assert len(selects) == 2, selects
        assert "authtoken_token" in selects[0]
        assert "LOWER" in selects[1]

    def test_unknown_owner_is_still_a_400(self, api_client):
        body = assert_problem(api_client.post(LEADS, new_lead(owner=987654)), 400)
        assert list(body["errors"]) == ["owner"]
        assert Lead.objects.count() == 0

    def test_duplicate_email_any_case_is_400_naming_the_field(self, api_client, lead_factory):
        lead_factory(email="ada@example.com")
        body = assert_problem(api_client.post(LEADS, new_lead(email="ADA@Example.com")), 400)
        assert body["type"].endswith("/validation-error")
        assert list(body["errors"]) == ["email"]
        assert Lead.objects.count() == 1

    @pytest.mark.parametrize(("taken", "email"), EQUIVALENT_SPELLINGS)
    def test_duplicate_email_in_an_equivalent_spelling_is_400_naming_the_field(
        self, api_client, lead_factory, taken, email
    ):
        lead_factory(email=taken)
        body = assert_problem(api_client.post(LEADS, new_lead(email=email)), 400)
        assert body["type"].endswith("/validation-error")
        assert body["errors"] == {"email": [DUPLICATE_EMAIL]}
        assert Lead.objects.count() == 1

    def test_idn_address_is_accepted_and_stored_in_ascii_form(self, api_client):
        response = api_client.post(LEADS, new_lead(email="Ada@B\u00fccher.example"))
        assert response.status_code == 201, response.content
        assert response.json()["email"] == "Ada@xn--bcher-kva.example"
        assert Lead.objects.get().email == "Ada@xn--bcher-kva.example"

    def test_address_whose_domain_has_no_ascii_form_is_400(self, api_client):
        body = assert_problem(api_client.post(LEADS, new_lead(email="ada@\ue000.example")), 400)
        assert body["errors"] == {"email": ["Enter a valid email address."]}

    def test_overlong_idn_address_is_a_quick_400(self, api_client):
        email = "ada@" + "\u4e00\u4e8c" * 5_000 + ".example"  # IDNA would take seconds
        started = time.monotonic()
        body = assert_problem(api_client.post(LEADS, new_lead(email=email), format="json"), 400)
        assert time.monotonic() - started < 2
        assert list(body["errors"]) == ["email"]

    def test_201_has_the_new_leads_location(self, api_client):
        response = api_client.post(LEADS, new_lead())
        assert response.status_code == 201
        lead_id = response.json()["id"]
        assert response["Location"] == f"http://testserver{LEADS}{lead_id}/"
        assert api_client.get(response["Location"]).json()["id"] == lead_id

    def test_idempotent_replay_has_the_same_location(self, api_client):
        key = {"HTTP_IDEMPOTENCY_KEY": "9d0b7c1e-location"}
        first = api_client.post(LEADS, new_lead(), format="json", **key)
        replay = api_client.post(LEADS, new_lead(), format="json", **key)
        assert replay["Idempotent-Replayed"] == "true"
        assert (
            replay["Location"]
            == first["Location"]
            == f"http://testserver{LEADS}{first.json()['id']}/"
        )
        assert Lead.objects.count() == 1

    def test_the_schema_documents_the_location_header(self):
        from drf_spectacular.generators import SchemaGenerator

        schema = SchemaGenerator().get_schema(request=None, public=True)
        headers = schema["paths"][LEADS]["post"]["responses"]["201"]["headers"]
        assert headers["Location"]["schema"] == {"type": "string", "format": "uri"}

    @pytest.mark.parametrize(
        ("field", "value"),
        [("score", 101), ("score", -1), ("email", "nope"), ("source", "tv"), ("first_name", "")],
    )
    def test_invalid_field_is_400_and_writes_nothing(self, api_client, field, value):
        body = assert_problem(api_client.post(LEADS, new_lead(**{field: value})), 400)
        assert field in body["errors"]
        assert not Lead.objects.exists()

    def test_status_in_body_is_ignored(self, api_client):
        response = api_client.post(LEADS, new_lead(status="converted"))
        assert response.json()["status"] == "new"

    def test_malformed_json_is_400(self, api_client):
        response = api_client.post(LEADS, "{bad", content_type="application/json")
        assert_problem(response, 400)

    def test_unsupported_media_type_is_415(self, api_client):
        response = api_client.post(LEADS, "<lead/>", content_type="application/xml")
        assert_problem(response, 415)


class TestReadUpdateDelete:
    def test_retrieve(self, api_client, lead):
        assert api_client.get(detail_url(lead)).json()["email"] == lead.email

    def test_unknown_id_is_404_problem(self, api_client):
        body = assert_problem(api_client.get(f"{LEADS}00000000-0000-0000-0000-000000000000/"), 404)
        assert body["type"].endswith("/not-found")

    def test_malformed_id_and_unknown_api_path_are_404_problems(self, api_client):
        assert_problem(api_client.get(f"{LEADS}not-a-uuid/"), 404)
        assert_problem(api_client.get("/api/v1/nothing/"), 404)

    def test_patch_changes_editable_fields_only(self, api_client, lead, user):
        response = api_client.patch(detail_url(lead), {"company": "Analytical", "status": "lost"})
        assert response.status_code == 200
        lead.refresh_from_db()
        assert (lead.company, lead.status, lead.updated_by) == ("Analytical", "new", user)

    def test_patch_to_a_taken_email_is_400_and_changes_nothing(self, api_client, lead_factory):
        first, second = lead_factory(), lead_factory()
        response = api_client.patch(detail_url(second), {"email": first.email.upper()})
        assert "email" in assert_problem(response, 400)["errors"]
        assert Lead.objects.get(pk=second.pk).email == second.email

    def test_patch_to_an_equivalent_spelling_of_a_taken_email_is_400(
        self, api_client, lead_factory
    ):
        lead_factory(email="ada@xn--bcher-kva.example")
        second = lead_factory()
        response = api_client.patch(detail_url(second), {"email": "ada@b\u00fccher.example"})
        assert assert_problem(response, 400)["errors"] == {"email": [DUPLICATE_EMAIL]}
        assert Lead.objects.get(pk=second.pk).email == second.email

    def test_put_replaces(self, api_client, lead):
        response = api_client.put(detail_url(lead), new_lead(email=lead.email, company="X"))
        assert response.status_code == 200
        assert Lead.objects.get(pk=lead.pk).company == "X"

    def test_delete_is_a_soft_delete(self, api_client, lead):
        assert api_client.delete(detail_url(lead)).status_code == 204
        assert Lead.objects.get(pk=lead.pk).deleted_at is not None
        assert_problem(api_client.get(detail_url(lead)), 404)
        assert api_client.get(LEADS).json()["count"] == 0

    def test_restore(self, api_client, lead):
        api_client.delete(detail_url(lead))
        response = api_client.post(f"{detail_url(lead)}restore/")
        assert response.status_code == 200
        assert api_client.get(detail_url(lead)).status_code == 200

    def test_restore_of_live_lead_is_409(self, api_client, lead):
        assert_problem(api_client.post(f"{detail_url(lead)}restore/"), 409)


class TestTransition:
    def test_allowed_move(self, api_client, lead):
        response = api_client.post(f"{detail_url(lead)}transition/", {"status": "contacted"})
        assert response.status_code == 200
        assert response.json()["status"] == "contacted"
        assert Lead.objects.get(pk=lead.pk).status == LeadStatus.CONTACTED

    def test_illegal_move_is_409_and_changes_nothing(self, api_client, lead):
        body = assert_problem(
            api_client.post(f"{detail_url(lead)}transition/", {"status": "converted"}), 409
        )
        assert body["type"].endswith("/conflict")
        assert "new" in body["detail"]
        assert Lead.objects.get(pk=lead.pk).status == LeadStatus.NEW

    def test_out_of_terminal_converted_is_409(self, api_client, lead_factory):
        lead = lead_factory(status=LeadStatus.CONVERTED)
        assert_problem(api_client.post(f"{detail_url(lead)}transition/", {"status": "lost"}), 409)

    def test_unknown_status_is_400(self, api_client, lead):
        body = assert_problem(
            api_client.post(f"{detail_url(lead)}transition/", {"status": "won"}), 400
        )
        assert "status" in body["errors"]
