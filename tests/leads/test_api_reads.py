"""The leads REST API as a client sees it, reading: authentication, the listing (filters,
search, ordering, pages), stats and the CSV export, throttling, timestamps."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leads.models import Lead, LeadSource, LeadStatus
from tests.factories import UserFactory
from tests.leads.api import LEADS, assert_problem, detail_url, new_lead

pytestmark = pytest.mark.django_db


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
