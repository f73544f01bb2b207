"""No secret, token, cookie or lead personal data reaches logs, spans or Sentry."""

import json

import pytest
from opentelemetry.trace import SpanKind

from observability import scrubbing

pytestmark = pytest.mark.django_db

TOKEN_SECRET = "s3cr3t-token-value-0123456789"
COOKIE_SECRET = "cookie-secret-value-987"
EMAIL = "ada.secret@example.com"
PHONE = "+1 555 0100 777"
SECRETS = [TOKEN_SECRET, COOKIE_SECRET, EMAIL, PHONE, "Lovelacesecret"]


def exported_text(spans) -> str:
    return json.dumps([json.loads(span.to_json()) for span in spans.get_finished_spans()])


@pytest.mark.urls("tests.observability.urls")
def test_secrets_and_personal_data_leave_no_trace_anywhere(
    error_client, spans, sentry_transport, json_logs
):
    headers = {
        "HTTP_AUTHORIZATION": f"Token {TOKEN_SECRET}",
        "HTTP_COOKIE": f"sessionid={COOKIE_SECRET}; csrftoken={COOKIE_SECRET}",
    }
    body = {"first_name": "Ada", "last_name": "Lovelacesecret", "email": EMAIL, "phone": PHONE}
    query = {"search": EMAIL, "email": EMAIL, "status": "new"}

    # REQUEST_URI as gunicorn sends it (RAW_URI): the OTel WSGI code reads url.query from it.
    # An API call (auth fails on the fake token: a 401 with a django.request warning) ...
    api_path = f"/api/v1/leads/?status=new&search={EMAIL}"
    error_client.post(api_path, body, format="json", REQUEST_URI=api_path, **headers)
    # ... and a crash whose message holds the e-mail, as a database error would.
    boom_path = "/api/v1/boom/?" + "&".join(f"{k}={v}" for k, v in query.items())
    error_client.generic(
        "POST",
        boom_path,
        json.dumps(body),
        content_type="application/json",
        REQUEST_URI=boom_path,
        **headers,
    )

    sentry_text = json.dumps(sentry_transport.events())
    spans_text = exported_text(spans)
    for secret in SECRETS:
        assert secret not in sentry_text, f"{secret} reached Sentry"
        assert secret not in spans_text, f"{secret} reached a span"
        assert secret not in json_logs.text, f"{secret} reached the logs"
    # Still useful: what was filtered is marked, the safe parts stay.
    assert scrubbing.FILTERED in sentry_text
    servers = [s for s in spans.get_finished_spans() if s.kind == SpanKind.SERVER]
    queries = [s.attributes.get("url.query", "") for s in servers]
    assert "status=new&search=[Filtered]" in queries


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_database_error_detail_does_not_leak_through_psycopg_spans(api_client, spans, lead_factory):
    from django.db import IntegrityError, connection, transaction
    from opentelemetry import trace

    lead_factory(email=EMAIL)
    request_span = trace.get_tracer(__name__).start_as_current_span("request")
    with (
        request_span,  # queries are traced inside a recorded span only
        pytest.raises(IntegrityError),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "INSERT INTO leads_lead (id, first_name, last_name, email, phone, company, title, "
            "source, status, score, notes, created_at, updated_at) VALUES (gen_random_uuid(), "
            "'a', 'b', %s, '', '', '', 'web', 'new', 1, '', now(), now())",
            [EMAIL.upper()],
        )
    failed = [s for s in spans.get_finished_spans() if not s.status.is_ok]
    assert failed, "the failing INSERT produced no error span"
    assert EMAIL.lower() not in exported_text(spans).lower()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=new&search=ada%40example.com", "status=new&search=[Filtered]"),
        ("email=a@b.example&page=2", "email=[Filtered]&page=2"),
        ("", ""),
    ],
)
def test_query_strings_keep_names_and_safe_values(query, expected):
    assert scrubbing.scrub_query_string(query) == expected


def test_scrub_walks_nested_structures():
    event = {"a": [{"Email": "x@y.example", "note": "mail me at x@y.example"}], "Cookie": "c=1"}
    assert scrubbing.scrub(event) == {
        "a": [{"Email": "[Filtered]", "note": "mail me at [Filtered]"}],
        "Cookie": "[Filtered]",
    }


def test_credentials_in_free_text_are_filtered():
    assert (
        scrubbing.scrub_text("header was Token abcdef0123456789") == "header was Token [Filtered]"
    )


@pytest.mark.parametrize("space", ["\t", "\n", "\u00a0", "\u2003", "\u3000"])
def test_credentials_behind_any_whitespace_are_filtered(space):
    # scrub_text skips its credential regex for single words; every kind of whitespace the
    # regex knows must still count as a separator.
    text = f"Bearer{space}abcdef0123456789"
    assert scrubbing.scrub_text(text) == "Bearer [Filtered]"


def test_sentry_scrub_event_filters_request_parts():
    from observability.errors import scrub_event

    event = {
        "request": {
            "url": "http://x/api/v1/leads/",
            "query_string": f"status=new&search={EMAIL}",
            "headers": {"Authorization": f"Token {TOKEN_SECRET}", "Accept": "application/json"},
            "cookies": {"sessionid": COOKIE_SECRET},
            "data": f"first_name,email\nAda,{EMAIL}\n",
        },
        "extra": {"row": {"phone": PHONE, "note": f"call {EMAIL}"}},
        "breadcrumbs": {"values": [{"message": f"lookup {EMAIL}"}]},
    }
    scrubbed = scrub_event(event, {})
    text = json.dumps(scrubbed)
    for secret in SECRETS:
        assert secret not in text
    assert scrubbed["request"]["query_string"] == "status=new&search=[Filtered]"
    assert scrubbed["request"]["headers"]["Accept"] == "application/json"
    assert "cookies" not in scrubbed["request"]
