"""/health/ping in front of Django answers exactly as the Django view would."""

import json

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.test import Client, RequestFactory

from health.fastpath import PingFastPath

pytestmark = pytest.mark.django_db


def call(application, method: str, path: str, **headers):
    environ = RequestFactory().generic(method, path, **headers).environ
    captured = {}

    def start_response(status, response_headers):
        captured["status"], captured["headers"] = status, dict(response_headers)

    body = b"".join(application(environ, start_response))
    return captured["status"], captured["headers"], body


class Downstream:
    """The wrapped application, counting what reaches it."""

    def __init__(self):
        self.django = WSGIHandler()
        self.calls = 0

    def __call__(self, environ, start_response):
        self.calls += 1
        return self.django(environ, start_response)


@pytest.mark.parametrize("path", ["/health/ping", "/health/ping/"])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_same_answer_as_the_django_view_without_reaching_django(path, method):
    downstream = Downstream()
    fast = call(PingFastPath(downstream), method, path, HTTP_X_CORRELATION_ID="probe-1")
    slow = call(downstream, method, path, HTTP_X_CORRELATION_ID="probe-1")
    assert downstream.calls == 1  # only the direct call
    assert fast[0] == slow[0] == "200 OK"
    assert fast[2] == slow[2]
    assert fast[1] == slow[1]  # every header, correlation IDs included


def test_invalid_correlation_id_is_replaced():
    _, headers, _ = call(PingFastPath(Downstream()), "GET", "/health/ping", HTTP_X_REQUEST_ID="a b")
    assert headers["X-Correlation-ID"] == headers["X-Request-ID"] != "a b"
    assert len(headers["X-Correlation-ID"]) == 36


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("POST", "/health/ping", "405 Method Not Allowed"), ("GET", "/health/alive", "200 OK")],
)
def test_everything_else_goes_to_django(method, path, status):
    downstream = Downstream()
    assert call(PingFastPath(downstream), method, path)[0] == status
    assert downstream.calls == 1


@pytest.mark.parametrize("method", ["POST", "DELETE", "PUT", "OPTIONS"])
def test_other_methods_on_ping_are_a_405_problem_not_a_csrf_page(method):
    status, headers, body = call(
        PingFastPath(Downstream()), method, "/health/ping", HTTP_COOKIE="sessionid=whatever"
    )
    assert status == "405 Method Not Allowed"
    assert headers["Content-Type"] == "application/problem+json"
    assert headers["Allow"] == "GET, HEAD"
    assert json.loads(body)["status"] == 405


def test_the_served_application_has_the_fast_path():
    from intelliflow import wsgi

    # Outside it only the WSGI repairs (HEAD bodies, chunked request bodies).
    assert isinstance(wsgi.application.application.application, PingFastPath)
    assert Client().get("/health/ping").json() == {"status": "pass"}
