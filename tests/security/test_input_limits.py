"""Every input limit answers a clear 4xx problem (413 for bodies) and changes nothing: body size,
import rows, JSON depth, form fields, page size, header sizes."""

import http.client
import json
import re

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token

from leads.models import Lead
from tests.leads.api import assert_problem, new_lead
from tests.servers import free_port, gunicorn, migrated_database_url, server_env

pytestmark = pytest.mark.django_db

LEADS = "/api/v1/leads/"
IMPORT = f"{LEADS}import/"
UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def oversized_lead() -> str:
    """A lead whose JSON is one byte over Django's DATA_UPLOAD_MAX_MEMORY_SIZE."""
    body = json.dumps(new_lead(notes=""))
    padding = django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1 - len(body)
    body = json.dumps(new_lead(notes="n" * padding))
    assert len(body) == django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1
    return body


# --- Body size ---------------------------------------------------------------------------------


def test_json_body_over_the_limit_is_413(api_client):
    response = api_client.post(LEADS, oversized_lead(), content_type="application/json")
    body = assert_problem(response, 413)
    assert body["type"].endswith("/payload-too-large")
    assert str(django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE) in body["detail"]
    assert not Lead.objects.exists()


def test_json_body_at_the_limit_is_accepted(api_client):
    """The limit is where it says: one byte less goes through."""
    body = oversized_lead().replace('"notes": "n', '"notes": "', 1)
    assert api_client.post(LEADS, body, content_type="application/json").status_code == 201


def test_oversized_update_is_413_and_leaves_the_lead_alone(api_client, lead):
    before = Lead.objects.values().get(pk=lead.pk)
    response = api_client.patch(
        f"{LEADS}{lead.pk}/", oversized_lead(), content_type="application/json"
    )
    assert_problem(response, 413)
    assert Lead.objects.values().get(pk=lead.pk) == before


def test_oversized_form_body_is_413(api_client):
    body = "first_name=" + "a" * django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = api_client.post(LEADS, body, content_type="application/x-www-form-urlencoded")
    assert_problem(response, 413)
    assert not Lead.objects.exists()


def test_oversized_multipart_is_refused_by_its_length(api_client):
    """File parts are outside Django's limit: the parser refuses by Content-Length first
    (without it this upload would be read, spooled, ignored, and the lead refused with a 400)."""
    upload = SimpleUploadedFile("big.bin", b"x" * django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    data = {"first_name": "A", "file": upload}
    response = api_client.post(LEADS, data, format="multipart")
    assert_problem(response, 413)
    assert not Lead.objects.exists()


def test_import_upload_over_its_own_limit_is_413(api_client, settings):
    settings.LEAD_IMPORT_MAX_BYTES = 1000
    header = b"first_name,last_name,email\n"
    # Just over (the view's own check) and over the envelope allowance too (the parser's).
    for size in (2000, 100_000):
        rows = b"".join(b"A,B,a%d@b.example\n" % n for n in range(size // 16))
        upload = SimpleUploadedFile("leads.csv", header + rows, content_type="text/csv")
        response = api_client.post(IMPORT, {"file": upload}, format="multipart")
        assert_problem(response, 413)
    assert not Lead.objects.exists()


# --- Rows, depth, fields -----------------------------------------------------------------------


def test_import_over_the_row_cap_is_400(api_client):
    limit = django_settings.LEAD_IMPORT_MAX_ROWS
    rows = [new_lead(email=f"lead{n}@example.com") for n in range(limit + 1)]
    body = assert_problem(api_client.post(IMPORT, rows, format="json"), 400)
    assert f"at most {limit} rows" in body["detail"]
    assert not Lead.objects.exists()


def test_csv_import_over_the_row_cap_is_400(api_client):
    limit = django_settings.LEAD_IMPORT_MAX_ROWS
    lines = ["first_name,last_name,email"] + [f"A,B,l{n}@example.com" for n in range(limit + 1)]
    response = api_client.post(IMPORT, "\n".join(lines), content_type="text/csv")
    assert f"at most {limit} rows" in assert_problem(response, 400)["detail"]
    assert not Lead.objects.exists()


@pytest.mark.parametrize("path", [LEADS, IMPORT])
def test_json_nested_too_deeply_is_400_not_500(api_client, path):
    body = "[" * 100_000 + "]" * 100_000
    response = api_client.post(path, body, content_type="application/json")
    assert "nested too deeply" in assert_problem(response, 400)["detail"]
    assert not Lead.objects.exists()


SURROGATE = '"\\ud800"'  # JSON text: a lone UTF-16 surrogate, legal JSON, not encodable as UTF-8


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", LEADS, f'{{"first_name": "A", "last_name": "B", "email": "a@x.example", '
                        f'"source": {SURROGATE}}}'),
        ("post", IMPORT, f'[{{"first_name": {SURROGATE}, "last_name": "B", '
                         f'"email": "a@x.example"}}]'),
        ("post", IMPORT, f'[{{"first_name": "A", "last_name": "B", "email": "a@x.example", '
                         f'"source": {SURROGATE}}}]'),
        ("transition", None, f'{{"status": {SURROGATE}}}'),
    ],
)  # fmt: skip
def test_a_lone_surrogate_anywhere_in_json_is_400_not_500(api_client, lead, method, path, body):
    if method == "transition":
        path = f"{LEADS}{lead.pk}/transition/"
    before = Lead.objects.count()
    response = api_client.post(path, body, content_type="application/json")
    assert "surrogate" in assert_problem(response, 400)["detail"]
    assert Lead.objects.count() == before


def test_too_many_form_fields_is_400(api_client):
    fields = {f"field{n}": "x" for n in range(django_settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    response = api_client.post(IMPORT, fields, format="multipart")
    assert_problem(response, 400)
    assert not Lead.objects.exists()


# --- Page size -------------------------------------------------------------------------------


def test_page_size_is_capped_not_refused(api_client, lead_factory):
    """Over the cap a read is clamped (DRF's convention, the documented contract), never more."""
    lead_factory.create_batch(django_settings.API_MAX_PAGE_SIZE + 1)
    for asked in (101, 10_000, 10**30):
        page = api_client.get(LEADS, {"page_size": asked}).json()
        assert len(page["results"]) == django_settings.API_MAX_PAGE_SIZE
    for nonsense in (-1, 0, "all"):
        page = api_client.get(LEADS, {"page_size": nonsense}).json()
        assert len(page["results"]) == django_settings.API_PAGE_SIZE


def test_page_past_the_end_is_a_404_problem(api_client):
    assert_problem(api_client.get(LEADS, {"page": 10**30}), 404)


# --- Headers (in the app) ----------------------------------------------------------------------


def test_oversized_correlation_id_is_replaced_and_the_request_served(api_client):
    response = api_client.post(LEADS, new_lead(), format="json", HTTP_X_CORRELATION_ID="a" * 10_000)
    assert response.status_code == 201
    assert UUID4.fullmatch(response["X-Correlation-ID"])


def test_oversized_token_is_a_401_problem(anon_client):
    anon_client.credentials(HTTP_AUTHORIZATION="Token " + "k" * 100_000)
    assert_problem(anon_client.post(LEADS, new_lead(), format="json"), 401)
    assert not Lead.objects.exists()


def test_oversized_bearer_tokens_are_refused_as_problems(client, settings, user):
    settings.METRICS_TOKEN = "metrics-secret"
    settings.HEALTH_TOKEN = "health-secret"
    bearer = "Bearer " + "k" * 100_000
    metrics = client.get("/metrics", HTTP_AUTHORIZATION=bearer)
    assert (metrics.status_code, metrics["Content-Type"]) == (401, "application/problem+json")
    stats = client.get("/health/db-stats", HTTP_AUTHORIZATION=bearer)
    assert (stats.status_code, stats["Content-Type"]) == (403, "application/problem+json")


def test_a_host_not_allowed_is_a_400_problem_on_the_api(api_client):
    response = api_client.post(LEADS, new_lead(), format="json", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert "evil" not in response.content.decode()  # nothing the client sent is echoed
    assert not Lead.objects.exists()


# --- Headers (at the server) -------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_gunicorn_refuses_oversized_request_heads_before_the_app(user):
    """gunicorn's limits (request line 4094 bytes, 100 header fields of 8190 bytes) answer 414 or
    431 with its own short HTML page before Django runs, so nothing can change; just inside them
    the app serves the request as usual."""
    token = Token.objects.create(user=user).key
    port = free_port()
    env = server_env(DATABASE_URL=migrated_database_url())
    body = json.dumps(new_lead())

    def post(path=LEADS, **headers):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        headers = {
            "Authorization": f"Token {token}",
            "Content-Type": "application/json",
            **headers,
        }
        connection.request("POST", path, body, headers)
        response = connection.getresponse()
        result = response.status, dict(response.headers), response.read()
        connection.close()
        return result

    with gunicorn(env, port, workers=1):
        refused = [
            post(**{"X-Correlation-ID": "a" * 9000}),
            post(**{f"X-Filler-{n}": "x" for n in range(120)}),
            post(path=LEADS + "?q=" + "a" * 5000),
        ]
        served = post(**{"X-Correlation-ID": "a" * 8000})
    assert [status for status, _, _ in refused] == [431, 431, 414], refused
    assert served[0] == 201, served
    assert UUID4.fullmatch(served[1]["X-Correlation-ID"])
    assert Lead.objects.count() == 1  # the served one; the refused ones changed nothing
