"""What fuzzing and the property tests found, pinned as plain tests so that they stay fixed
whatever a randomised run happens to draw."""

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from leads.models import Lead

pytestmark = pytest.mark.django_db

LIST = "/api/v1/leads/"
IMPORT = "/api/v1/leads/import/"


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


@pytest.mark.parametrize(
    "moment",
    ["0249-08-12T09:56:35-21:36", "2026-01-01T00:00:00+23:59", "2026-01-01T00:00:00Z"],
)
def test_any_offset_python_accepts_filters_without_a_500(api_client, lead, moment):
    """PostgreSQL takes offsets up to ±15:59 only; the filter now sends UTC."""
    assert api_client.get(LIST, {"created_after": moment}).status_code == 200
    assert api_client.get(LIST, {"created_before": moment}).status_code == 200


def test_a_moment_outside_the_calendar_in_utc_is_invalid_input(api_client):
    body = assert_problem(
        api_client.get(LIST, {"created_before": "0001-01-01T00:30:00+01:00"}), 400
    )
    assert list(body["errors"]) == ["created_before"]


@pytest.mark.parametrize("owner", ["1.5", "1e62", "0", "-3", "9223372036854775808", "abc"])
def test_owner_filter_is_a_user_id(api_client, owner):
    body = assert_problem(api_client.get(LIST, {"owner": owner}), 400)
    assert list(body["errors"]) == ["owner"]


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("path", ["/api/v1/nothing-here/", "/api/v1/leads/a%0Ab/restore/"])
def test_unknown_api_urls_are_404_problems_for_every_method(method, path, token):
    # Django's own client enforces CSRF like a browser would; a session cookie is present.
    client = Client(enforce_csrf_checks=True)
    client.cookies["sessionid"] = "whatever"
    response = getattr(client, method)(path, HTTP_AUTHORIZATION=f"Token {token.key}")
    assert_problem(response, 404)


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ({"first_name": 42}, "first_name"),
        ({"last_name": True}, "last_name"),
        ({"score": True}, "score"),
        ({"score": 1.5}, "score"),
        ({"owner": 1.5}, "owner"),
        ({"notes": "a\x00b"}, "notes"),
    ],
)
def test_an_import_row_says_what_it_means(api_client, row, field):
    lead = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@import.example"} | row
    body = assert_problem(api_client.post(IMPORT, [lead], format="json"), 400)
    assert list(body["errors"]["1"]) == [field]
    assert not Lead.objects.exists()


def test_a_csv_score_is_text_and_still_a_number(api_client):
    data = b"first_name,last_name,email,score\nAda,Lovelace,ada@import.example,42\n"
    response = api_client.generic("POST", IMPORT, data, content_type="text/csv")
    assert response.status_code == 201, response.content
    assert Lead.objects.get().score == 42


def test_the_schema_states_the_import_limits():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    request_body = schema["paths"][IMPORT]["post"]["requestBody"]
    rows = request_body["content"]["application/json"]["schema"]
    assert request_body["required"] is True
    assert (rows["minItems"], rows["maxItems"]) == (1, 1000)
    assert schema["components"]["schemas"]["LeadImportRowRequest"]["additionalProperties"] is False
