"""The leads REST API as a client sees it, importing: JSON arrays and CSV, all or nothing,
problem bodies naming the failing row, and what got written."""

import io

import pytest

from leads.models import Lead
from leads.services import DUPLICATE_EMAIL, INACTIVE_OWNER
from tests.factories import UserFactory
from tests.leads.api import EQUIVALENT_SPELLINGS, LEADS, assert_problem, new_lead

pytestmark = pytest.mark.django_db


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
