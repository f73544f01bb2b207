"""Server spans come from opentelemetry-instrumentation-django, configured by the variables
every OpenTelemetry-for-Django guide documents, and scrubbing holds with every knob turned on.

The app runs under gunicorn (its environ is what the instrumentation reads) and exports over
OTLP/HTTP to a local receiver: what is asserted is what a collector would receive.
"""

import http.cookies
import re
import time
from contextlib import contextmanager

import pytest
from rest_framework.authtoken.models import Token

from tests.factories import LeadFactory, UserFactory
from tests.observability.otlp import otlp_receiver
from tests.servers import free_port, gunicorn, http_get, migrated_database_url, server_env

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
DJANGO_SCOPE = "opentelemetry.instrumentation.django"


@contextmanager
def serve_traced(endpoint: str, **variables):
    """gunicorn (one worker) exporting to `endpoint`; yields its base URL."""
    env = server_env(
        DATABASE_URL=migrated_database_url(),
        OTEL_ENABLED="true",
        OTEL_EXPORTER_OTLP_ENDPOINT=endpoint,
        OTEL_BSP_SCHEDULE_DELAY="50",
        **variables,
    )
    port = free_port()
    with gunicorn(env, port, workers=1):
        yield f"http://127.0.0.1:{port}"


def wait_for(received, predicate, seconds: float = 10.0) -> list:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = [item for item in received.scoped_spans() if predicate(item)]
        if found:
            return found
        time.sleep(0.05)
    return []


def attributes(span) -> dict:
    def value(any_value):
        kind = any_value.WhichOneof("value")
        if kind == "array_value":
            return [value(v) for v in any_value.array_value.values]
        return getattr(any_value, kind) if kind else None

    return {kv.key: value(kv.value) for kv in span.attributes}


@pytest.fixture
def api_token(db):
    return Token.objects.create(user=UserFactory()).key


def test_lead_list_span_comes_from_the_django_instrumentation(api_token):
    with otlp_receiver() as (endpoint, received), serve_traced(endpoint) as server:
        status, _, headers = http_get(
            server + "/api/v1/leads/?page=1", {"Authorization": f"Token {api_token}"}
        )
        assert status == 200
        ((_, scope, span),) = wait_for(
            received, lambda item: item[2].kind == item[2].SPAN_KIND_SERVER
        )
    assert scope == DJANGO_SCOPE
    assert span.name == "GET api/v1/leads/"
    span_attributes = attributes(span)
    assert span_attributes["http.route"] == "api/v1/leads/"
    assert span_attributes["http.request.method"] == "GET"  # stable HTTP conventions
    assert span_attributes["http.response.status_code"] == 200
    assert span_attributes["url.path"] == "/api/v1/leads/"
    assert "http.method" not in span_attributes
    assert span_attributes["user.id"]  # the response hook: an id, never contact data
    assert headers["traceresponse"].split("-")[1] == span.trace_id.hex()


def test_probes_and_metrics_are_excluded_by_default_and_the_variable_overrides(api_token):
    with otlp_receiver() as (endpoint, received):
        with serve_traced(endpoint) as server:
            for path in ("/health/alive", "/health/ready/", "/metrics", "/api/schema/"):
                http_get(server + path)
            assert wait_for(received, lambda item: item[2].name == "GET api/schema/")
            names = {span.name for _, _, span in received.scoped_spans()}
            assert not {n for n in names if "health" in n or "metrics" in n}, names
        with serve_traced(endpoint, OTEL_PYTHON_DJANGO_EXCLUDED_URLS="api/v1/leads") as server:
            before = len(received.scoped_spans())
            http_get(server + "/api/v1/leads/", {"Authorization": f"Token {api_token}"})
            http_get(server + "/health/alive")
            assert wait_for(received, lambda item: "health" in item[2].name)
            new = [span.name for _, _, span in received.scoped_spans()[before:]]
            assert not [n for n in new if "leads" in n], new


def test_traced_request_attributes_variable_works_as_documented(api_token):
    with (
        otlp_receiver() as (endpoint, received),
        serve_traced(
            endpoint, OTEL_PYTHON_DJANGO_TRACED_REQUEST_ATTRS="path_info,content_type"
        ) as server,
    ):
        http_get(server + "/api/v1/leads/", {"Authorization": f"Token {api_token}"})
        ((_, _, span),) = wait_for(received, lambda item: "leads" in item[2].name)
    assert attributes(span)["path_info"] == "/api/v1/leads/"


def test_no_credential_or_contact_value_leaks_with_every_capture_knob_on(api_token):
    lead = LeadFactory(email="ada.hidden@lead.example")
    session_secret = "sessionsecret0123456789abcdef"
    secrets = {
        api_token,
        session_secret,
        "hunter2-password",
        lead.email,
        lead.email.replace("@", "%40"),
        f"Token%20{api_token}",
    }
    knobs = {
        "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST": ".*",
        "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_RESPONSE": ".*",
        "OTEL_PYTHON_DJANGO_TRACED_REQUEST_ATTRS": "COOKIES,META,body,session,path,headers",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
    }
    with otlp_receiver() as (endpoint, received), serve_traced(endpoint, **knobs) as server:
        # The admin login page answers with Set-Cookie: csrftoken=<secret>.
        _, _, login_headers = http_get(server + "/admin/login/")
        cookie = http.cookies.SimpleCookie(login_headers["Set-Cookie"])
        secrets.add(cookie["csrftoken"].value)
        headers = {
            "Authorization": f"Token {api_token}",
            "Cookie": f"sessionid={session_secret}; csrftoken={cookie['csrftoken'].value}",
            "X-Contact": f"write to {lead.email.replace('@', '%40')}",
            "X-Password": "hunter2-password",
            "X-Forwarded-Authorization": f"Token%20{api_token}",
        }
        for path in (
            f"/api/v1/leads/?search={lead.email.replace('@', '%40')}",
            f"/api/v1/leads/{lead.pk}/",
            f"/api/v1/leads/?page=Token%20{api_token}",
        ):
            assert http_get(server + path, headers)[0] in (200, 400, 404)
        spans = wait_for(received, lambda item: item[1] == DJANGO_SCOPE)
        assert len(spans) >= 1
        time.sleep(0.3)  # the rest of the batch
        exported = received.scoped_spans()
    captured = set()
    for _, _, span in exported:
        span_attributes = attributes(span)
        captured |= {key for key in span_attributes if key.startswith("http.request.header")}
        texts = [(key, str(value)) for key, value in span_attributes.items()] + [
            (f"event {kv.key}", str(kv.value)) for event in span.events for kv in event.attributes
        ]
        for key, text in texts:
            for secret in secrets:
                assert secret not in text, (span.name, key, text)
    # The knobs really were on: headers were captured (and filtered), not ignored.
    assert {"http.request.header.authorization", "http.request.header.cookie"} <= captured
    assert any(re.search(r"x_contact|x-contact", key) for key in captured)
