"""JSON logs: the fixed schema, context on every record, one access line, safe extras."""

import io
import json
import logging
import re

import pytest
from django.conf import settings

from observability.logging import ContextFilter, JsonFormatter, TextFormatter

LEADS = "/api/v1/leads/"
SCHEMA = {
    "timestamp", "level", "logger", "message", "service", "environment", "version",
    "correlation_id", "trace_id", "span_id",
}  # fmt: skip
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def test_settings_wire_the_json_formatter_and_context_filter_to_stdout():
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler.formatter, JsonFormatter)
    assert any(isinstance(f, ContextFilter) for f in handler.filters)
    assert settings.LOGGING["handlers"]["stdout"]["stream"] == "ext://sys.stdout"


@pytest.mark.django_db
def test_access_line_schema_and_http_fields(api_client, user, json_logs):
    response = api_client.get(LEADS, {"search": "private@example.com"}, HTTP_X_REQUEST_ID="r-1")
    (line,) = json_logs.by_logger("intelliflow.access")
    assert set(line) >= SCHEMA
    assert TIMESTAMP.fullmatch(line["timestamp"])
    assert line["level"] == "INFO"
    assert (line["service"], line["version"]) == ("intelliflow-crm", settings.VERSION)
    assert line["correlation_id"] == "r-1" == response["X-Request-ID"]
    assert line["http.request.method"] == "GET"
    assert line["http.route"] == "api/v1/leads/"
    assert line["url.path"] == LEADS
    assert line["http.response.status_code"] == 200
    assert line["duration_ms"] > 0
    assert line["user.id"] == user.pk
    assert "private@example.com" not in json_logs.text  # no query strings in logs


@pytest.mark.django_db
def test_exactly_one_access_line_per_request(api_client, json_logs):
    api_client.get(LEADS)
    api_client.get(LEADS + "not-a-uuid/")
    assert len(json_logs.by_logger("intelliflow.access")) == 2


@pytest.mark.django_db
def test_anonymous_request_logs_no_user(anon_client, json_logs):
    anon_client.get(LEADS)
    assert json_logs.by_logger("intelliflow.access")[0]["user.id"] is None


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/health/ping", "/health/ready/", "/metrics"])
def test_probes_are_not_access_logged_by_default(client, json_logs, path):
    client.get(path)
    assert not json_logs.by_logger("intelliflow.access")


@pytest.mark.django_db
def test_probes_are_access_logged_when_asked(client, json_logs, settings):
    settings.ACCESS_LOG_PROBES = True
    client.get("/health/ping")
    assert json_logs.by_logger("intelliflow.access")


@pytest.mark.django_db
def test_django_request_records_carry_the_request_ids(anon_client, json_logs):
    response = anon_client.get(LEADS, HTTP_X_CORRELATION_ID="late-1")  # 401: django.request warns
    (warning,) = json_logs.by_logger("django.request")
    assert warning["correlation_id"] == "late-1" == response["X-Correlation-ID"]


def format_with(formatter, record_factory) -> str:
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(formatter)
    handler.addFilter(ContextFilter())
    logger = logging.getLogger("tests.logging.unit")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        record_factory(logger)
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    return buffer.getvalue()


JSON = JsonFormatter(service="svc", environment="test", version="1.2.3")


@pytest.mark.parametrize(
    "extra",
    [
        {"message": "spoof", "level": "spoof", "name": "spoof", "asctime": "x"},
        {"trace_id": "spoof", "correlation_id": "spoof", "service": "spoof"},
        {"args": "spoof", "msg": "spoof", "levelname": "spoof"},
    ],
)
def test_clashing_extra_keys_neither_crash_nor_overwrite(extra):
    output = format_with(JSON, lambda logger: logger.warning("real message", extra=extra))
    line = json.loads(output)
    assert line["message"] == "real message"
    assert line["level"] == "WARNING"
    assert line["service"] == "svc"
    assert line["correlation_id"] is None
    for key in extra:
        assert line[f"extra.{key}"] == extra[key]


def test_exception_is_logged_as_structured_fields():
    def log(logger):
        try:
            raise ValueError("bad value")
        except ValueError:
            logger.exception("it failed", extra={"lead_id": "abc"})

    line = json.loads(format_with(JSON, log))
    assert line["exception.type"] == "builtins.ValueError"
    assert line["exception.message"] == "bad value"
    assert "Traceback" in line["exception.stacktrace"]
    assert line["lead_id"] == "abc"
    assert "exc_info" not in line


def test_unserialisable_extra_does_not_drop_the_line():
    output = format_with(JSON, lambda logger: logger.info("odd", extra={"thing": object()}))
    assert json.loads(output)["message"] == "odd"


def test_text_format_is_one_readable_line():
    output = format_with(
        TextFormatter(), lambda logger: logger.info("hello %s", "you", extra={"k": 1})
    )
    assert re.fullmatch(r"\S+Z INFO +tests\.logging\.unit hello you k=1\n", output)


def test_timestamps_keep_each_records_own_second_and_milliseconds():
    # The formatted second is cached; a late record from the previous second, formatted after
    # the next one, must still get its own second, and .9996 must not round up into the next.
    from observability.logging import _timestamp

    late = logging.makeLogRecord({"created": 1_800_000_000.9996})
    next_second = logging.makeLogRecord({"created": 1_800_000_001.0004})
    assert _timestamp(next_second) == "2027-01-15T08:00:01.000Z"
    assert _timestamp(late) == "2027-01-15T08:00:00.999Z"
    assert _timestamp(next_second) == "2027-01-15T08:00:01.000Z"
