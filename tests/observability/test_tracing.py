"""Spans for Django and psycopg: one trace per request, route names, the right attributes."""

import pytest
from opentelemetry.trace import SpanKind

pytestmark = pytest.mark.django_db

LEADS = "/api/v1/leads/"
TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PARENT_SPAN_ID = "b7ad6b7169203331"


def server_span(spans):
    (span,) = [s for s in spans.get_finished_spans() if s.kind == SpanKind.SERVER]
    return span


def hex_ids(span) -> tuple[str, str]:
    return format(span.context.trace_id, "032x"), format(span.context.span_id, "016x")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)  # real commits, so on_commit logging happens in-request
@pytest.mark.parametrize("method", ["get", "post"])
def test_api_request_is_one_trace_with_psycopg_children(api_client, spans, json_logs, method):
    body = {"first_name": "Ada", "last_name": "L", "email": "ada@trace.example"}
    response = getattr(api_client, method)(LEADS, body if method == "post" else None)
    assert response.status_code in (200, 201)
    server = server_span(spans)
    trace_id, span_id = hex_ids(server)
    db_spans = [s for s in spans.get_finished_spans() if s.kind == SpanKind.CLIENT]
    assert db_spans, "no psycopg spans"
    assert all(s.context.trace_id == server.context.trace_id for s in db_spans)
    assert all(s.parent.span_id == server.context.span_id for s in db_spans)
    assert all(s.attributes["db.system.name"] == "postgresql" for s in db_spans)
    assert all("db.query.text" in s.attributes for s in db_spans)

    (access,) = json_logs.by_logger("intelliflow.access")
    assert (access["trace_id"], access["span_id"]) == (trace_id, span_id)
    assert access["correlation_id"] == response["X-Correlation-ID"]
    assert server.attributes["intelliflow.correlation_id"] == response["X-Correlation-ID"]
    assert response["traceresponse"] == f"00-{trace_id}-{span_id}-{response['traceresponse'][-2:]}"
    if method == "post":
        (created,) = json_logs.by_logger("leads.services")
        assert (created["trace_id"], created["correlation_id"]) == (
            trace_id,
            response["X-Correlation-ID"],
        )


def test_server_span_is_named_by_route_template_with_stable_attributes(api_client, spans, lead):
    api_client.get(f"{LEADS}{lead.pk}/")
    span = server_span(spans)
    assert span.name == "GET api/v1/leads/<uuid:pk>/"
    assert "$" not in span.name
    assert span.attributes["http.route"] == "api/v1/leads/<uuid:pk>/"
    assert span.attributes["http.request.method"] == "GET"
    assert span.attributes["http.response.status_code"] == 200
    assert "http.method" not in span.attributes  # old semantic conventions are off


def test_inbound_traceparent_is_continued(api_client, spans):
    response = api_client.get(LEADS, HTTP_TRACEPARENT=f"00-{TRACE_ID}-{PARENT_SPAN_ID}-01")
    span = server_span(spans)
    assert hex_ids(span)[0] == TRACE_ID
    assert format(span.parent.span_id, "016x") == PARENT_SPAN_ID
    assert response["traceresponse"].startswith(f"00-{TRACE_ID}-")


@pytest.mark.parametrize("path", ["/health/ping", "/health/ready/", "/metrics"])
def test_probes_and_metrics_are_not_traced(client, spans, path):
    client.get(path)
    assert not [s for s in spans.get_finished_spans() if s.kind == SpanKind.SERVER]


def test_resource_names_the_service_and_this_process(api_client, spans):
    import os

    api_client.get(LEADS)
    resource = server_span(spans).resource.attributes
    assert resource["service.name"] == "intelliflow-crm"
    assert resource["service.version"]
    assert resource["deployment.environment.name"]
    assert resource["process.pid"] == os.getpid()
    assert resource["service.instance.id"]


def test_resource_is_serialised_for_its_hash_once(monkeypatch):
    """The OTLP encoder hashes the resource of every exported span; the SDK's Resource
    serialises its attributes to JSON for each hash."""
    from opentelemetry.sdk import resources

    from observability.tracing import build_resource

    resource = build_resource()
    serialised = []
    monkeypatch.setattr(resources, "dumps", lambda *args, **kwargs: serialised.append(1) or "{}")
    assert hash(resource) == hash(resource) == hash(resource)
    assert len(serialised) == 1
    assert resource == resources.Resource(resource.attributes, resource.schema_url)


@pytest.mark.postgres
def test_database_spans_carry_their_request_route(api_client, lead, spans):
    api_client.get(f"{LEADS}{lead.pk}/")
    db_spans = [s for s in spans.get_finished_spans() if s.kind == SpanKind.CLIENT]
    assert db_spans
    assert {s.attributes.get("http.route") for s in db_spans} == {"api/v1/leads/<uuid:pk>/"}


def test_unsampled_request_records_no_span_at_all(api_client, lead, spans):
    """A caller's sampled=0 is honoured down to the queries, which skip the instrumentation."""
    response = api_client.get(
        f"{LEADS}{lead.pk}/", HTTP_TRACEPARENT=f"00-{TRACE_ID}-{PARENT_SPAN_ID}-00"
    )
    assert response.status_code == 200
    assert spans.get_finished_spans() == ()
    assert response["traceresponse"].startswith(f"00-{TRACE_ID}-")
    assert response["traceresponse"].endswith("-00")


def test_queries_outside_a_request_make_no_root_traces(lead, spans):
    from leads.models import Lead

    assert Lead.objects.filter(pk=lead.pk).exists()
    assert spans.get_finished_spans() == ()


@pytest.mark.urls("tests.observability.urls")
def test_view_exception_marks_the_server_span_as_error(error_client, spans):
    from opentelemetry.trace import StatusCode

    response = error_client.get(
        "/api/v1/boom/?status=new",
        HTTP_USER_AGENT="probe/1.0",
        RAW_URI="/api/v1/boom/?status=new",  # gunicorn's; the instrumentation reads the URL there
    )
    assert response.status_code == 500
    span = server_span(spans)
    assert span.name == "GET api/v1/boom/"
    assert span.status.status_code == StatusCode.ERROR
    assert span.attributes["error.type"] == "500"  # the instrumentation's choice for a 5xx
    assert span.attributes["http.response.status_code"] == 500
    assert span.attributes["url.path"] == "/api/v1/boom/"
    assert span.attributes["url.query"] == "status=new"
    assert span.attributes["user_agent.original"] == "probe/1.0"
    (event,) = span.events
    assert event.name == "exception"
    assert event.attributes["exception.type"] == "RuntimeError"


def test_unknown_method_is_reported_as_other(api_client, spans):
    api_client.generic("BREW", LEADS)
    span = server_span(spans)
    assert span.attributes["http.request.method"] == "_OTHER"
    assert span.attributes["http.request.method_original"] == "BREW"


@pytest.mark.urls("tests.observability.urls")
@pytest.mark.parametrize(("flags", "recording"), [("00", False), ("01", True)])
def test_an_unsampled_request_suppresses_the_instrumentation_below_it(client, spans, flags,
                                                                      recording):  # fmt: skip
    """Its queries then skip the psycopg instrumentation (statement parsing, span
    bookkeeping) through the public suppress_instrumentation(); a sampled one keeps it."""
    from opentelemetry.instrumentation.utils import is_instrumentation_enabled

    response = client.get(
        "/api/v1/instrumentation-state/",
        HTTP_TRACEPARENT=f"00-{TRACE_ID}-{PARENT_SPAN_ID}-{flags}",
    )
    assert response.json() == {"instrumentation_enabled": recording, "recording": recording}
    assert is_instrumentation_enabled()  # left again when the request ended
