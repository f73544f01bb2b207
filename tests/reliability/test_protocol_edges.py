"""HTTP as real clients and scanners send it, under gunicorn: HEAD, chunked bodies, a Host the
app does not serve."""

import http.client
import json

import pytest

from tests.reliability.conftest import json_lines
from tests.servers import free_port, gunicorn, migrated_database_url, server_env

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def served(server_token, tmp_path):
    """gunicorn on the test database; yields (port, log path, token)."""
    port, log = free_port(), tmp_path / "server.log"
    with gunicorn(server_env(DATABASE_URL=migrated_database_url()), port, output=log):
        yield port, log, server_token


def request(port, method, path, body=None, headers=None, chunked=False):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {}, encode_chunked=chunked)
        response = connection.getresponse()
        return response.status, response.read(), response.headers
    finally:
        connection.close()


def test_head_answers_without_a_body_and_without_a_server_warning(served):
    port, log, _ = served
    for path in ("/health/ping", "/health/alive", "/api/schema/"):
        status, body, headers = request(port, "HEAD", path)
        assert (status, body) == (200, b""), path
        assert int(headers["Content-Length"]) > 0  # the length of the GET body, as HTTP wants
    assert "body bytes on a no-body response" not in log.read_text()


def test_a_chunked_body_is_read(served):
    port, _, token = served
    lead = {"first_name": "Chunk", "last_name": "Ed", "email": "chunked@protocol.example"}
    status, body, _ = request(
        port,
        "POST",
        "/api/v1/leads/",
        body=iter([json.dumps(lead).encode()[:10], json.dumps(lead).encode()[10:]]),
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        chunked=True,
    )
    assert status == 201, body
    assert json.loads(body)["email"] == lead["email"]


def test_a_chunked_body_over_the_limit_is_a_413_problem(served):
    port, _, token = served
    status, _, headers = request(
        port,
        "POST",
        "/api/v1/leads/",
        body=iter([b"[" + b" " * (1024 * 1024)] * 7),
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        chunked=True,
    )
    assert status == 413
    assert headers["Content-Type"] == "application/problem+json"


def test_a_foreign_host_is_one_warning_line_without_a_traceback(served):
    port, log, _ = served
    for _ in range(3):
        status, _, _ = request(port, "GET", "/api/v1/leads/", headers={"Host": "scanner.example"})
        assert status == 400
    lines = [line for line in json_lines(log) if line["logger"] == "django.security.DisallowedHost"]
    assert len(lines) == 3
    assert {line["level"] for line in lines} == {"WARNING"}
    assert not [line for line in lines if "exception.stacktrace" in line]
