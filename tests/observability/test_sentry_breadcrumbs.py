"""Sentry breadcrumbs are scrubbed when an event is sent (no eager hook per breadcrumb), and the
middleware's early skip of an unsampled transaction agrees with Sentry's own decision."""

import logging

import pytest
from django.db import connection

from tests.observability.test_errors import BOOM, configure, reset_sentry, wsgi

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.observability.urls")]
SECRETS = ["ada.secret@example.com", "abcdefgh12345678secret"]


def leaky(get_response):
    def middleware(request):
        logging.getLogger("tests.crumbs").info("user %s Token %s", SECRETS[0], SECRETS[1])
        logging.getLogger("tests.crumbs").info("extra", extra={"email": "x", "token": SECRETS[1]})
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT '{SECRETS[0]}' AS email, 'Token {SECRETS[1]}'")
        return get_response(request)

    return middleware


@pytest.mark.parametrize("rate", [0.0, 1.0])
def test_breadcrumbs_never_leak(settings, spans, rate):
    transport = configure(settings, rate)
    try:
        settings.MIDDLEWARE = [*settings.MIDDLEWARE, f"{__name__}.leaky"]
        assert wsgi("GET", BOOM).status_code == 500
    finally:
        reset_sentry()
    (event,) = transport.events()
    crumbs = event["breadcrumbs"]["values"]
    assert any(c.get("category") == "tests.crumbs" for c in crumbs), crumbs
    assert any(c.get("category") == "query" and "[Filtered]" in c["message"] for c in crumbs)
    envelopes = b"".join(envelope.serialize() for envelope in transport.envelopes)
    for secret in SECRETS:
        assert secret.encode() not in envelopes, secret


def test_pre_skip_never_drops_a_transaction_sentry_would_sample(settings, spans):
    import random

    import sentry_sdk
    from django.test import RequestFactory
    from opentelemetry import trace
    from opentelemetry.trace import SpanKind

    from observability import errors

    configure(settings, 0.1)
    try:
        tracer = trace.get_tracer(__name__)
        request = RequestFactory().get("/api/v1/leads/")
        client = sentry_sdk.get_client()
        random.seed(7)
        skipped = kept = 0
        for _ in range(3000):
            with tracer.start_as_current_span("GET", kind=SpanKind.SERVER):
                kwargs = errors._transaction_kwargs(request)
                surely = errors._surely_unsampled(kwargs, client)
                with sentry_sdk.start_transaction(**kwargs) as transaction:
                    pass
                if surely:
                    skipped += 1
                    assert transaction.sampled is False
                else:
                    kept += 1
                    assert transaction.sampled is True, kwargs["baggage"].sentry_items
    finally:
        reset_sentry()
    assert skipped > 2500
    assert kept > 200
