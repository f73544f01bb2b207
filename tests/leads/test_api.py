"""The leads REST API as a client sees it: status codes, problem bodies, and what got written."""

import csv
import io
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leads.models import Lead, LeadSource, LeadStatus
from leads.services import DUPLICATE_EMAIL, INACTIVE_OWNER
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LEADS = "/api/v1/leads/"
PROBLEM_KEYS = {"type", "title", "status", "detail", "instance", "correlation_id"}


def detail_url(lead) -> str:
    return f"{LEADS}{lead.pk}/"


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert set(body) >= PROBLEM_KEYS
    assert body["status"] == status
    assert body["instance"] == response.wsgi_request.path
    assert "Traceback" not in response.content.decode()
    return body


# (a live lead's address, another spelling of it): each must be refused as a duplicate.
EQUIVALENT_SPELLINGS = [
    pytest.param("ada@b\u00fccher.example", "ada@xn--bcher-kva.example", id="idn-then-punycode"),
    pytest.param("ada@xn--bcher-kva.example", "ADA@B\u00dcCHER.example", id="punycode-then-idn"),
    pytest.param("sam@example.com", "\u017fam@example.com", id="long-s-local-part"),
    pytest.param("ada@business.example", "ada@bu\u017finess.example", id="long-s-domain"),
    pytest.param("kim@example.com", "\u212aim@example.com", id="kelvin-sign"),
    pytest.param("ada@example.com", "\uff41\uff44\uff41@\uff25xample.com", id="fullwidth"),
    pytest.param("ada@example.com", "ada\uff20example.com", id="fullwidth-at"),
    pytest.param("ada@example.com", "ada@exa\u200bmple.com", id="zero-width-space"),
]


def new_lead(**overrides) -> dict:
    return {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", **overrides}


class TestAuthentication:
    def test_anonymous_gets_401_problem_with_challenge(self, anon_client):
        body = assert_problem(anon_client.get(LEADS), 401)
        assert body["type"].endswith("/not-authenticated")

    def test_anonymous_challenge_names_token_auth(self, anon_client):
        assert anon_client.get(LEADS)["WWW-Authenticate"] == "Token"

    def test_wrong_token_gets_401(self, anon_client):
        anon_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
        assert_problem(anon_client.get(LEADS), 401)

    def test_token_works(self, api_client, lead):
        response = api_client.get(LEADS)
        assert response.status_code == 200
        assert response.json()["results"][0]["id"] == str(lead.pk)

    def test_session_works(self, client, user, lead):
        client.force_login(user)
        assert client.get(LEADS).status_code == 200

    def test_session_write_without_csrf_token_is_403(self, user):
        from django.test import Client

        client = Client(enforce_csrf_checks=True)
        client.force_login(user)
        response = client.post(LEADS, new_lead(), content_type="application/json")
        assert_problem(response, 403)
        assert not Lead.objects.exists()

    def test_correlation_id_is_taken_from_a_valid_header(self, anon_client):
        body = anon_client.get(LEADS, HTTP_X_REQUEST_ID="req-42").json()
        assert body["correlation_id"] == "req-42"

    def test_invalid_correlation_header_is_replaced(self, anon_client):
        body = anon_client.get(LEADS, HTTP_X_CORRELATION_ID="bad id\r\n" * 20).json()
        assert "bad" not in body["correlation_id"]
        assert len(body["correlation_id"]) == 36


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


class TestListing:
    def test_filters(self, api_client, lead_factory):
        owner = UserFactory()
        wanted = lead_factory(status="qualified", source="event", owner=owner)
        lead_factory(status="qualified", source="web")
        lead_factory(status="new", source="event", owner=owner)
        response = api_client.get(
            LEADS, {"status": "qualified", "source": "event", "owner": owner.pk}
        )
        assert [row["id"] for row in response.json()["results"]] == [str(wanted.pk)]

    def test_status_filter_takes_several_values(self, api_client, lead_factory):
        lead_factory(status="new"), lead_factory(status="lost"), lead_factory(status="contacted")
        response = api_client.get(f"{LEADS}?status=new&status=lost")
        assert sorted(row["status"] for row in response.json()["results"]) == ["lost", "new"]

    def test_created_range(self, api_client, lead_factory):
        old, recent = lead_factory(), lead_factory()
        Lead.objects.filter(pk=old.pk).update(
            created_at=timezone.now() - timezone.timedelta(days=10)
        )
        since = (timezone.now() - timezone.timedelta(days=1)).isoformat()
        response = api_client.get(LEADS, {"created_after": since})
        assert [row["id"] for row in response.json()["results"]] == [str(recent.pk)]
        response = api_client.get(LEADS, {"created_before": since})
        assert [row["id"] for row in response.json()["results"]] == [str(old.pk)]

    def test_invalid_filter_values_are_400(self, api_client):
        body = assert_problem(api_client.get(LEADS, {"status": "won", "created_after": "x"}), 400)
        assert set(body["errors"]) == {"status", "created_after"}

    @pytest.mark.parametrize("term", ["lovelace", "ADA@", "analytical"])
    def test_search_over_names_email_company(self, api_client, lead_factory, term):
        wanted = lead_factory(
            first_name="Ada", last_name="Lovelace", email="ada@engine.example", company="Analytical"
        )
        lead_factory(first_name="Alan", last_name="Turing", company="Bletchley")
        response = api_client.get(LEADS, {"search": term})
        assert [row["id"] for row in response.json()["results"]] == [str(wanted.pk)]

    def test_ordering(self, api_client, lead_factory):
        for score in (30, 90, 60):
            lead_factory(score=score)
        scores = [
            row["score"] for row in api_client.get(LEADS, {"ordering": "-score"}).json()["results"]
        ]
        assert scores == [90, 60, 30]

    def test_pagination_and_page_size_cap(self, api_client, lead_factory):
        lead_factory.create_batch(120)
        body = api_client.get(LEADS).json()
        assert (body["count"], len(body["results"])) == (120, 50)
        assert len(api_client.get(LEADS, {"page_size": 500}).json()["results"]) == 100
        assert len(api_client.get(LEADS, {"page_size": 7, "page": 2}).json()["results"]) == 7
        assert_problem(api_client.get(LEADS, {"page": 99}), 404)

    def test_pages_neither_repeat_nor_skip_with_tied_sort_keys(self, api_client, lead_factory):
        lead_factory.create_batch(30, score=50)
        seen = []
        for page in (1, 2, 3):
            results = api_client.get(LEADS, {"ordering": "score", "page_size": 10, "page": page})
            seen += [row["id"] for row in results.json()["results"]]
        assert len(seen) == len(set(seen)) == 30

    def test_list_runs_a_constant_number_of_queries(self, api_client, lead_factory):
        owner = UserFactory()
        lead_factory.create_batch(3, owner=owner)
        with CaptureQueriesContext(connection) as few:
            api_client.get(LEADS, {"page_size": 100})
        lead_factory.create_batch(97, owner=owner)
        with CaptureQueriesContext(connection) as many:
            response = api_client.get(LEADS, {"page_size": 100})
        assert len(response.json()["results"]) == 100
        assert len(many) == len(few) <= 3  # token lookup, count, page


class TestStatsAndExport:
    def test_stats_counts_live_leads_by_status_and_source(self, api_client, lead_factory):
        lead_factory(status="new", source="web")
        lead_factory(status="lost", source="web")
        lead_factory(status="lost", source="event", deleted_at=timezone.now())
        body = api_client.get(f"{LEADS}stats/").json()
        assert body["total"] == 2
        assert body["by_status"] == {s: {"new": 1, "lost": 1}.get(s, 0) for s in LeadStatus.values}
        assert body["by_source"]["web"] == 2
        assert set(body["by_source"]) == set(LeadSource.values)

    def test_stats_honour_filters(self, api_client, lead_factory):
        lead_factory(source="web"), lead_factory(source="event")
        assert api_client.get(f"{LEADS}stats/", {"source": "event"}).json()["total"] == 1

    def test_export_streams_filtered_csv_with_formulas_neutralised(self, api_client, lead_factory):
        lead_factory(company='=HYPERLINK("http://evil")', phone="+1 555", status="lost")
        lead_factory(company="@SUM(A1)", notes="-2+3", status="lost")
        lead_factory(company="Plain Co", status="new")
        response = api_client.get(f"{LEADS}export/", {"status": "lost"}, HTTP_ACCEPT="text/csv")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        assert "attachment" in response["Content-Disposition"]
        rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert len(rows) == 2
        companies = sorted(row["company"] for row in rows)
        assert companies == ['\'=HYPERLINK("http://evil")', "'@SUM(A1)"]
        assert {row["notes"] for row in rows} == {"", "'-2+3"}
        # Stored as given: only the export is neutralised.
        assert Lead.objects.filter(company__startswith="=").exists()

    def test_export_neutralises_formulas_behind_blanks_and_in_fullwidth(self, api_client):
        data = "first_name,last_name,email,company,title,notes\n"
        data += "A,B,a@b.example, =1+1,\u00a0+1,\uff1dcmd\n"
        assert api_client.post(f"{LEADS}import/", data, content_type="text/csv").status_code == 201
        lead = Lead.objects.get()
        assert (lead.company, lead.title, lead.notes) == (" =1+1", "\u00a0+1", "\uff1dcmd")
        response = api_client.get(f"{LEADS}export/")
        (row,) = csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode()))
        assert (row["company"], row["title"], row["notes"]) == ("' =1+1", "'\u00a0+1", "'\uff1dcmd")

    def test_export_needs_auth(self, anon_client):
        assert_problem(anon_client.get(f"{LEADS}export/"), 401)


class TestImport:
    def rows(self, count: int) -> list[dict]:
        return [
            new_lead(email=f"row{n}@import.example", last_name=str(n)) for n in range(1, count + 1)
        ]

    def test_json_array(self, api_client):
        response = api_client.post(f"{LEADS}import/", self.rows(3), format="json")
        assert response.status_code == 201
        assert response.json()["created"] == 3 == Lead.objects.count()

    def test_bad_row_500_of_1000_creates_nothing(self, api_client):
        rows = self.rows(1000)
        rows[499]["score"] = 500
        body = assert_problem(api_client.post(f"{LEADS}import/", rows, format="json"), 400)
        assert body["errors"] == {
            "500": {"score": ["Ensure this value is less than or equal to 100."]}
        }
        assert "nothing was imported" in body["detail"]
        assert not Lead.objects.exists()

    def test_more_than_1000_rows_is_400(self, api_client):
        assert_problem(api_client.post(f"{LEADS}import/", self.rows(1001), format="json"), 400)
        assert not Lead.objects.exists()

    def test_json_object_instead_of_array_is_400(self, api_client):
        assert_problem(api_client.post(f"{LEADS}import/", new_lead(), format="json"), 400)

    def test_csv_upload(self, api_client):
        data = "First_Name,last_name,email,score,source\nGrace,Hopper,grace@navy.example,90,event\n"
        data += "Alan,Turing,alan@bletchley.example,,\n\n"
        upload = io.BytesIO(data.encode("utf-8-sig"))
        upload.name = "leads.csv"
        response = api_client.post(f"{LEADS}import/", {"file": upload}, format="multipart")
        assert response.status_code == 201, response.content
        alan = Lead.objects.get(last_name="Turing")
        assert (alan.score, alan.source) == (0, "web")  # empty cells take the defaults
        assert Lead.objects.get(last_name="Hopper").source == "event"

    def test_csv_body(self, api_client):
        data = "first_name,last_name,email\nGrace,Hopper,grace@navy.example\n"
        response = api_client.post(f"{LEADS}import/", data, content_type="text/csv")
        assert response.status_code == 201

    @pytest.mark.parametrize(
        ("data", "needle"),
        [
            ("first_name,last_name,email,colour\nA,B,a@b.example,red\n", "colour"),
            ("first_name,last_name,email\nA,B,a@b.example,extra\n", "cells"),
            ('first_name,last_name,email\n"A,B,a@b.example\n', "malformed"),
            ("", "CSV"),
        ],
    )
    def test_malformed_csv_is_400(self, api_client, data, needle):
        response = api_client.post(f"{LEADS}import/", data, content_type="text/csv")
        assert needle in assert_problem(response, 400)["detail"]
        assert not Lead.objects.exists()

    def test_non_utf8_csv_is_400(self, api_client):
        data = "first_name,last_name,email\nJosé,Núñez,jose@example.com\n".encode("latin-1")
        response = api_client.post(f"{LEADS}import/", data, content_type="text/csv")
        assert "UTF-8" in assert_problem(response, 400)["detail"]

    def test_oversized_upload_is_413(self, api_client, settings):
        settings.LEAD_IMPORT_MAX_BYTES = 100
        data = "first_name,last_name,email\n" + "A,B,a@b.example\n" * 20
        response = api_client.post(f"{LEADS}import/", data, content_type="text/csv")
        assert_problem(response, 413)
        assert not Lead.objects.exists()

    def test_inactive_owner_is_refused_by_row_and_nothing_is_imported(self, api_client):
        active, inactive = UserFactory(), UserFactory(is_active=False)
        rows = self.rows(3)
        rows[0]["owner"] = active.pk
        rows[1]["owner"] = inactive.pk
        body = assert_problem(api_client.post(f"{LEADS}import/", rows, format="json"), 400)
        assert body["errors"] == {"2": {"owner": [INACTIVE_OWNER]}}
        assert not Lead.objects.exists()

    def test_csv_inactive_owner_is_refused_by_row_and_nothing_is_imported(self, api_client):
        active, inactive = UserFactory(), UserFactory(is_active=False)
        data = "first_name,last_name,email,owner\n"
        data += f"A,B,a@b.example,{active.pk}\nC,D,c@d.example,{inactive.pk}\n"
        response = api_client.post(f"{LEADS}import/", data, content_type="text/csv")
        assert assert_problem(response, 400)["errors"] == {"2": {"owner": [INACTIVE_OWNER]}}
        assert not Lead.objects.exists()

    def test_csv_active_owner_is_imported(self, api_client):
        owner = UserFactory()
        data = f"first_name,last_name,email,owner\nA,B,a@b.example,{owner.pk}\n"
        response = api_client.post(f"{LEADS}import/", data, content_type="text/csv")
        assert response.status_code == 201, response.content
        assert Lead.objects.get().owner == owner

    @pytest.mark.parametrize(("taken", "email"), EQUIVALENT_SPELLINGS)
    def test_csv_equivalent_spelling_of_a_taken_email_is_refused(
        self, api_client, lead_factory, taken, email
    ):
        lead_factory(email=taken)
        data = f"first_name,last_name,email\nA,B,new@b.example\nC,D,{email}\n"
        response = api_client.post(f"{LEADS}import/", data.encode(), content_type="text/csv")
        assert assert_problem(response, 400)["errors"] == {"2": {"email": [DUPLICATE_EMAIL]}}
        assert Lead.objects.count() == 1

    def test_json_rows_repeating_an_address_in_another_spelling_are_refused(self, api_client):
        rows = [
            new_lead(email="ada@xn--bcher-kva.example"),
            new_lead(email="ada@B\u00dcCHER.example"),
        ]
        body = assert_problem(api_client.post(f"{LEADS}import/", rows, format="json"), 400)
        assert body["errors"] == {"2": {"email": ["Repeats the e-mail address of an earlier row."]}}
        assert not Lead.objects.exists()

    def test_formula_values_are_stored_as_given(self, api_client):
        row = new_lead(company="=cmd|' /C calc'!A0")
        assert api_client.post(f"{LEADS}import/", [row], format="json").status_code == 201
        assert Lead.objects.get().company == "=cmd|' /C calc'!A0"


class TestThrottling:
    def test_user_rate_limit_answers_429_problem_with_retry_after(self, api_client, monkeypatch):
        from django.core.cache import cache
        from rest_framework.throttling import UserRateThrottle

        cache.clear()
        monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "2/minute", "anon": None})
        assert api_client.get(LEADS).status_code == 200
        assert api_client.get(LEADS).status_code == 200
        response = api_client.get(LEADS)
        assert_problem(response, 429)
        assert int(response["Retry-After"]) > 0
        cache.clear()


def test_timestamps_are_utc_whatever_time_zone_is_active(api_client, lead):
    # LeadSerializer renders in UTC without looking up the active zone (see UTCDateTimeField).
    with timezone.override("Asia/Tokyo"):
        body = api_client.get(detail_url(lead)).json()
    assert body["created_at"] == lead.created_at.isoformat().replace("+00:00", "Z")
    assert body["converted_at"] is None
