"""Sentry transactions: the OTel trace's ID, sampled as OTel samples, scrubbed like errors."""

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import RequestFactory
from opentelemetry import trace
from opentelemetry.sdk.trace.sampling import TraceIdRatioBased
from opentelemetry.trace import SpanKind

from observability import errors
from tests.observability.test_errors import (
    BOOM,
    configure,
    error_events,
    reset_sentry,
    server_span,
    transactions,
    wsgi,
)

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.observability.urls")]

ROOT = Path(__file__).resolve().parents[2]
LEADS = "/api/v1/leads/"


@pytest.fixture
def sentry_traced(settings, spans):
    """SENTRY_TRACES_SAMPLE_RATE=1."""
    yield configure(settings, 1.0)
    reset_sentry()


@pytest.fixture
def sentry_untraced(settings, spans):
    yield configure(settings, 0.0)
    reset_sentry()


def test_the_transaction_is_the_otel_server_span(sentry_traced, spans, token, lead):
    response = wsgi(
        "GET",
        f"{LEADS}{lead.pk}/",
        HTTP_AUTHORIZATION=f"Token {token.key}",
        HTTP_X_CORRELATION_ID="list-1",
    )

    assert response.status_code == 200
    (transaction,) = transactions(sentry_traced)
    server = server_span(spans)
    context = transaction["contexts"]["trace"]
    assert context["trace_id"] == format(server.context.trace_id, "032x") == response.trace_id()
    assert context["span_id"] == format(server.context.span_id, "016x")
    assert context["op"] == "http.server"
    assert context["status"] == "ok"
    assert transaction["transaction"] == "api/v1/leads/<uuid:pk>/"  # OTel's http.route
    assert server.attributes["http.route"] == "api/v1/leads/<uuid:pk>/"
    assert transaction["transaction_info"] == {"source": "route"}
    assert transaction["tags"]["correlation_id"] == "list-1"
    assert transaction["user"] == {"id": str(token.user.pk)}
    assert transaction["request"]["method"] == "GET"
    assert any(span["op"] == "db" for span in transaction["spans"])
    assert error_events(sentry_traced) == []


def test_an_incoming_trace_is_continued_by_both(sentry_traced, spans, token):
    trace_id, parent_id = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    wsgi(
        "GET",
        LEADS,
        HTTP_AUTHORIZATION=f"Token {token.key}",
        HTTP_TRACEPARENT=f"00-{trace_id}-{parent_id}-01",
    )

    (transaction,) = transactions(sentry_traced)
    assert server_span(spans).context.trace_id == int(trace_id, 16)
    assert transaction["contexts"]["trace"]["trace_id"] == trace_id
    assert transaction["contexts"]["trace"]["parent_span_id"] == parent_id


def test_a_500_is_one_error_event_in_the_transactions_trace(sentry_traced, spans):
    response = wsgi("GET", BOOM, HTTP_X_CORRELATION_ID="boom-2")

    assert response.status_code == 500
    (event,) = error_events(sentry_traced)
    (transaction,) = transactions(sentry_traced)
    trace_id = format(server_span(spans).context.trace_id, "032x")
    assert event["contexts"]["trace"]["trace_id"] == trace_id == response.trace_id()
    assert transaction["contexts"]["trace"]["trace_id"] == trace_id
    assert event["contexts"]["trace"]["span_id"] == transaction["contexts"]["trace"]["span_id"]
    assert event["transaction"] == transaction["transaction"] == "api/v1/boom/"
    assert event["tags"]["correlation_id"] == transaction["tags"]["correlation_id"] == "boom-2"
    assert transaction["contexts"]["trace"]["status"] == "internal_error"
    assert "user" not in event


def test_transactions_are_scrubbed_like_errors(sentry_traced, token):
    secrets = ["ada.secret@example.com", "+4915112345678", "s3cr3t-api-key-value", token.key]
    authorization = {"HTTP_AUTHORIZATION": f"Token {token.key}"}
    query = {"status": "new", "search": secrets[0], "phone": secrets[1], "token": secrets[3]}
    wsgi("GET", LEADS, query, HTTP_X_API_KEY=secrets[2], **authorization)
    body = {
        "first_name": "Ada",
        "last_name": "Secret",
        "email": secrets[0],
        "phone": secrets[1],
        "source": "web",
    }
    created = wsgi("POST", LEADS, json.dumps(body), **authorization)
    assert created.status_code == 201
    # The same lead again: a 409/400 whose error text would name the e-mail address.
    wsgi("POST", LEADS, json.dumps(body), **authorization)

    assert len(transactions(sentry_traced)) == 3
    (listing, *_) = transactions(sentry_traced)
    assert listing["request"]["query_string"].startswith("status=new&")
    envelopes = b"".join(envelope.serialize() for envelope in sentry_traced.envelopes)
    for secret in secrets:
        assert secret.encode() not in envelopes, secret
    assert b"ada.secret%40example.com" not in envelopes


def test_rate_zero_sends_no_transaction_and_does_no_transaction_work(sentry_untraced, token):
    import sentry_sdk

    assert sentry_sdk.get_client().options["traces_sample_rate"] is None
    wsgi("GET", LEADS, HTTP_AUTHORIZATION=f"Token {token.key}")
    wsgi("GET", BOOM)
    assert transactions(sentry_untraced) == []
    assert len(error_events(sentry_untraced)) == 1


def test_probes_are_no_transactions(sentry_traced):
    wsgi("GET", "/health/alive")
    assert transactions(sentry_traced) == []


def test_sentry_samples_the_trace_ids_otel_samples(settings, spans):
    """1000 requests' server spans (seeded trace ids) at 0.1: Sentry keeps about 10 %, and
    exactly the ones OTel's TraceIdRatioBased(0.1) keeps."""
    transport = configure(settings, 0.1)
    try:
        tracer = trace.get_tracer(__name__)
        otel = TraceIdRatioBased(0.1)
        request = RequestFactory().get(LEADS)
        random.seed(2026)  # OTel's id generator draws from `random`
        expected = set()
        for _ in range(1000):
            with tracer.start_as_current_span("GET", kind=SpanKind.SERVER) as span:
                trace_id = span.get_span_context().trace_id
                if otel.should_sample(None, trace_id, "GET").decision.is_sampled():
                    expected.add(format(trace_id, "032x"))
                with errors.sentry_sdk.start_transaction(**errors._transaction_kwargs(request)):
                    pass
        sent = {t["contexts"]["trace"]["trace_id"] for t in transactions(transport)}
    finally:
        reset_sentry()
    # Binomial(1000, 0.1): mean 100, sd 9.5; a 4-sd band.
    assert 62 <= len(sent) <= 138
    assert sent == expected
    # Sentry is told the configured rate, so it can extrapolate counts from the sample.
    for envelope in transport.envelopes:
        dynamic_sampling_context = envelope.headers["trace"]
        assert dynamic_sampling_context["sample_rate"] == "0.1"
        assert float(dynamic_sampling_context["sample_rand"]) < 0.1


@pytest.mark.parametrize(
    "trace_id", [0, 1, (1 << 63), (1 << 64) - 1, 0x4BF92F3577B34DA6A3CE929D0E0E4736]
)
@pytest.mark.parametrize("rate", [0.0, 0.1, 0.25, 0.5, 0.999999, 1.0])
def test_sample_rand_agrees_with_otel_traceidratio(trace_id, rate):
    sampled = TraceIdRatioBased(rate).should_sample(None, trace_id, "x").decision.is_sampled()
    assert (errors.sample_rand(trace_id) < rate) == sampled


def settings_in_subprocess(**environ) -> dict:
    code = (
        "import json, django, sentry_sdk; from django.conf import settings; django.setup(); "
        "print(json.dumps({'rate': settings.SENTRY_TRACES_SAMPLE_RATE, "
        "'sdk_rate': sentry_sdk.get_client().options['traces_sample_rate'], "
        "'release': settings.SENTRY_RELEASE, 'first': settings.MIDDLEWARE[0]}))"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "intelliflow.settings",
        "SENTRY_ENABLED": "true",
        "SENTRY_DSN": "https://public@sentry.invalid/1",
        **environ,
    }
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_settings_default_rate_is_a_tenth_in_production_and_zero_in_development():
    production = settings_in_subprocess(DJANGO_SECRET_KEY="x" * 50)
    assert production["rate"] == production["sdk_rate"] == 0.1
    assert production["first"] == errors.MIDDLEWARE
    assert production["release"].startswith("intelliflow-crm@")
    development = settings_in_subprocess(DJANGO_DEBUG="true")
    assert development["rate"] == 0.0
    assert development["sdk_rate"] is None
    chosen = settings_in_subprocess(
        DJANGO_DEBUG="true", SENTRY_TRACES_SAMPLE_RATE="1", RELEASE_ID="3f9c2ab", SENTRY_RELEASE=""
    )
    assert chosen["sdk_rate"] == 1.0
    assert chosen["release"].endswith("+3f9c2ab")
    assert settings_in_subprocess(SENTRY_RELEASE="crm@9", DJANGO_DEBUG="true")["release"] == "crm@9"
