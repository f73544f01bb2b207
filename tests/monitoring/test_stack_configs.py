"""The collector, Loki and Tempo configs, checked structurally: their binaries are not
available here, so nothing runs them in CI (docs/operations.md says so)."""

import re

import pytest

from tests.monitoring.conftest import MONITORING, ROOT, load_yaml

COLLECTOR = load_yaml(MONITORING / "otel-collector.yaml")
SERVICES = load_yaml(ROOT / "docker-compose.yml")["services"]
KINDS = ("receivers", "processors", "exporters", "connectors")


def defined(kind: str) -> set[str]:
    return set(COLLECTOR.get(kind) or {})


def test_every_pipeline_component_is_defined():
    pipelines = COLLECTOR["service"]["pipelines"]
    for name, pipeline in pipelines.items():
        for receiver in pipeline["receivers"]:
            assert receiver in defined("receivers") | defined("connectors"), (name, receiver)
        for processor in pipeline.get("processors", []):
            assert processor in defined("processors"), (name, processor)
        for exporter in pipeline["exporters"]:
            assert exporter in defined("exporters") | defined("connectors"), (name, exporter)


def test_every_defined_component_is_used_and_connectors_join_pipelines():
    pipelines = COLLECTOR["service"]["pipelines"].values()
    used = {
        c for p in pipelines for k in ("receivers", "processors", "exporters") for c in p.get(k, [])
    }
    for kind in KINDS:
        assert defined(kind) <= used, (kind, defined(kind) - used)
    for connector in defined("connectors"):
        assert any(connector in p["exporters"] for p in pipelines)
        assert any(connector in p["receivers"] for p in pipelines)


def test_memory_limiter_comes_first_and_batch_last():
    for pipeline in COLLECTOR["service"]["pipelines"].values():
        processors = pipeline["processors"]
        assert processors[0] == "memory_limiter"
        assert processors[-1] == "batch"


def service_port(endpoint: str) -> tuple[str, str]:
    match = re.match(r"^(?:https?://)?([\w.-]+):(\d+)", endpoint)
    assert match, endpoint
    return match.group(1), match.group(2)


def test_exporter_endpoints_are_compose_services_listening_there():
    tempo_host, tempo_port = service_port(COLLECTOR["exporters"]["otlp_grpc/tempo"]["endpoint"])
    assert tempo_host == "tempo"
    tempo = load_yaml(MONITORING / "tempo.yaml")
    grpc = tempo["distributor"]["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"]
    assert grpc.endswith(f":{tempo_port}")

    loki_host, loki_port = service_port(COLLECTOR["exporters"]["otlp_http/loki"]["endpoint"])
    assert loki_host == "loki"
    assert str(load_yaml(MONITORING / "loki.yaml")["server"]["http_listen_port"]) == loki_port

    _, span_metrics_port = service_port(COLLECTOR["exporters"]["prometheus"]["endpoint"])
    scrape_targets = {
        target
        for job in load_yaml(MONITORING / "prometheus.yml")["scrape_configs"]
        for config in job.get("static_configs", [])
        for target in config["targets"]
    }
    assert f"otel-collector:{span_metrics_port}" in scrape_targets
    for target in scrape_targets:
        host, _ = service_port(target)
        # node-exporter is on the host's network: reached through the host gateway.
        assert host in SERVICES or host in {"localhost", "host.docker.internal"}, target


def test_collector_health_and_own_metrics_match_the_published_ports():
    health = COLLECTOR["extensions"]["health_check"]["endpoint"]
    assert health.endswith(":13133")
    reader = COLLECTOR["service"]["telemetry"]["metrics"]["readers"][0]["pull"]["exporter"]
    assert reader["prometheus"]["port"] == 8888
    assert {"13133:13133", "8888:8888"} <= set(SERVICES["otel-collector"]["ports"])


def test_collector_drops_probe_spans_and_redacts_secrets():
    groups = COLLECTOR["processors"]["filter/noise"]["trace_conditions"]
    span_filters = " ".join(c for g in groups if g["context"] == "span" for c in g["conditions"])
    assert "health" in span_filters
    assert "metrics" in span_filters
    redaction = COLLECTOR["processors"]["redaction/sensitive"]
    blocked = " ".join(redaction["blocked_key_patterns"]).lower()
    for needle in ("authorization", "cookie", "email", "phone"):
        assert needle in blocked
    assert redaction["blocked_values"]


def test_collector_makes_red_metrics_with_exemplars_and_a_service_graph():
    spanmetrics = COLLECTOR["connectors"]["spanmetrics"]
    assert spanmetrics["exemplars"]["enabled"] is True
    dimensions = [d["name"] for d in spanmetrics["dimensions"]]
    assert {"http.route", "http.request.method", "http.response.status_code"} <= set(dimensions)
    assert "servicegraph" in COLLECTOR["connectors"]
    assert COLLECTOR["exporters"]["prometheus"]["enable_open_metrics"] is True


def test_service_graph_forms_database_edges_from_stable_semconv():
    servicegraph = COLLECTOR["connectors"]["servicegraph"]
    assert "database_name_attribute" not in servicegraph  # deprecated since v0.124
    assert servicegraph["database_name_attributes"][0] == "db.namespace"


def test_instance_identity_stays_out_of_span_metric_labels():
    spanmetrics = COLLECTOR["connectors"]["spanmetrics"]
    keys = spanmetrics["resource_metrics_key_attributes"]
    assert "service.name" in keys
    assert not {"service.instance.id", "process.pid"} & set(keys)
    assert "service.instance.id" not in [d["name"] for d in spanmetrics["dimensions"]]
    pipeline = COLLECTOR["service"]["pipelines"]["metrics/spans"]
    deleted = {
        action["key"]
        for name in pipeline["processors"]
        if name.split("/")[0] == "resource"
        for action in COLLECTOR["processors"][name]["attributes"]
        if action["action"] == "delete"
    }
    assert {"service.instance.id", "process.pid"} <= deleted
    assert not {"service.name", "deployment.environment", "deployment.environment.name"} & deleted


def test_otlp_http_cors_origins_come_from_the_environment_and_default_to_none():
    cors = COLLECTOR["receivers"]["otlp"]["protocols"]["http"]["cors"]
    assert cors["allowed_origins"] == "${env:OTEL_COLLECTOR_CORS_ALLOWED_ORIGINS:-}"


def collector_operators() -> list[dict]:
    return COLLECTOR["receivers"]["filelog/app"]["operators"]


def test_app_logs_reach_loki_with_service_and_level_labels_and_trace_ids():
    operators = collector_operators()
    types = [op["type"] for op in operators]
    assert "trace_parser" in types
    assert "severity_parser" in types
    moved = {op["to"] for op in operators if op["type"] == "move"}
    assert {'resource["service.name"]', 'resource["level"]'} <= moved
    labels = load_yaml(MONITORING / "loki.yaml")["limits_config"]["otlp_config"]
    indexed = labels["resource_attributes"]["attributes_config"][0]["attributes"]
    assert {"service.name", "level"} <= set(indexed)


def test_log_offsets_survive_collector_restarts():
    filelog = COLLECTOR["receivers"]["filelog/app"]
    assert filelog["storage"] == "file_storage"
    assert filelog["start_at"] == "beginning"
    assert COLLECTOR["extensions"]["file_storage"]["directory"] == "/var/lib/otelcol/file_storage"
    assert "file_storage" in COLLECTOR["service"]["extensions"]


def test_trace_parser_skips_null_ids_and_ids_are_not_stored_twice():
    operators = collector_operators()
    types = [op["type"] for op in operators]
    parser = operators[types.index("trace_parser")]
    assert "attributes.trace_id != nil" in parser["if"]
    assert "attributes.span_id != nil" in parser["if"]
    removed = {
        op["field"] for op in operators[types.index("trace_parser") + 1 :] if op["type"] == "remove"
    }
    assert {"attributes.trace_id", "attributes.span_id"} <= removed


def test_critical_lines_get_a_fatal_severity():
    operators = collector_operators()
    severity = next(op for op in operators if op["type"] == "severity_parser")
    mapped = severity["mapping"]["fatal"]
    assert "critical" in ([mapped] if isinstance(mapped, str) else mapped)


def test_log_filter_keeps_the_app_schema_whatever_the_service_name():
    operators = collector_operators()
    expressions = " ".join(op["expr"] for op in operators if op["type"] == "filter")
    assert "intelliflow" not in expressions
    assert "correlation_id" in expressions
    assert "service" in expressions
    # the filter comes after the app line's JSON is parsed, before its fields are moved away
    types = [op["type"] for op in operators]
    assert types.index("filter") > len(types) - 1 - types[::-1].index("json_parser")


@pytest.mark.parametrize(
    ("path", "key", "retention"),
    [
        ("tempo.yaml", ("backend_worker", "compaction", "block_retention"), "168h"),
        ("prometheus.yml", ("storage", "tsdb", "retention", "time"), "30d"),
        ("prometheus.yml", ("storage", "tsdb", "retention", "size"), "10GB"),
        ("loki.yaml", ("limits_config", "retention_period"), "720h"),
    ],
)
def test_retention_matches_the_seed(path, key, retention):
    config = load_yaml(MONITORING / path)
    for part in key:
        config = config[part]
    assert config == retention


def test_prometheus_keeps_exemplars_and_remote_write_and_retention_in_its_config():
    command = " ".join(SERVICES["prometheus"]["command"])
    for flag in ("--enable-feature=exemplar-storage", "--web.enable-remote-write-receiver"):
        assert flag in command
    # Prometheus 3.14 deprecates the retention flags for storage.tsdb.retention (above).
    assert "--storage.tsdb.retention" not in command


def test_tempo_3_monolithic_has_no_ingester_or_compactor_block():
    tempo = load_yaml(MONITORING / "tempo.yaml")
    assert not {"ingester", "compactor", "ingester_client", "metrics_generator_client"} & set(tempo)
    assert tempo["server"]["grpc_listen_port"] == 9095
    assert "9095" in SERVICES["tempo"]["expose"]
