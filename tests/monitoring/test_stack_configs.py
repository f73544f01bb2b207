"""The collector, Loki and Tempo configs, checked structurally: their binaries are not
available here, so nothing runs them in CI (the README says so)."""

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
    tempo_host, tempo_port = service_port(COLLECTOR["exporters"]["otlp/tempo"]["endpoint"])
    assert tempo_host == "tempo"
    tempo = load_yaml(MONITORING / "tempo.yaml")
    grpc = tempo["distributor"]["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"]
    assert grpc.endswith(f":{tempo_port}")

    loki_host, loki_port = service_port(COLLECTOR["exporters"]["otlphttp/loki"]["endpoint"])
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
        assert host in SERVICES or host == "localhost", target


def test_collector_health_and_own_metrics_match_the_published_ports():
    health = COLLECTOR["extensions"]["health_check"]["endpoint"]
    assert health.endswith(":13133")
    reader = COLLECTOR["service"]["telemetry"]["metrics"]["readers"][0]["pull"]["exporter"]
    assert reader["prometheus"]["port"] == 8888
    assert {"13133:13133", "8888:8888"} <= set(SERVICES["otel-collector"]["ports"])


def test_collector_drops_probe_spans_and_redacts_secrets():
    span_filters = " ".join(COLLECTOR["processors"]["filter/noise"]["traces"]["span"])
    assert "health" in span_filters
    assert "metrics" in span_filters
    blocked = " ".join(COLLECTOR["processors"]["redaction/sensitive"]["blocked_key_patterns"])
    for needle in ("authorization", "cookie", "email"):
        assert needle in blocked


def test_collector_makes_red_metrics_with_exemplars_and_a_service_graph():
    assert COLLECTOR["connectors"]["spanmetrics"]["exemplars"]["enabled"] is True
    assert "http.route" in [d["name"] for d in COLLECTOR["connectors"]["spanmetrics"]["dimensions"]]
    assert "servicegraph" in COLLECTOR["connectors"]
    assert COLLECTOR["exporters"]["prometheus"]["enable_open_metrics"] is True


def test_app_logs_reach_loki_with_service_and_level_labels_and_trace_ids():
    operators = COLLECTOR["receivers"]["filelog/app"]["operators"]
    types = [op["type"] for op in operators]
    assert "trace_parser" in types
    assert "severity_parser" in types
    moved = {op["to"] for op in operators if op["type"] == "move"}
    assert {'resource["service.name"]', 'resource["level"]'} <= moved
    labels = load_yaml(MONITORING / "loki.yaml")["limits_config"]["otlp_config"]
    indexed = labels["resource_attributes"]["attributes_config"][0]["attributes"]
    assert {"service.name", "level"} <= set(indexed)


@pytest.mark.parametrize(
    ("path", "key", "retention"),
    [
        ("tempo.yaml", ("compactor", "compaction", "block_retention"), "168h"),
        ("loki.yaml", ("limits_config", "retention_period"), "720h"),
    ],
)
def test_retention_matches_the_seed(path, key, retention):
    config = load_yaml(MONITORING / path)
    for part in key:
        config = config[part]
    assert config == retention


def test_prometheus_keeps_30_days_and_10_gb_with_exemplars_and_remote_write():
    command = " ".join(SERVICES["prometheus"]["command"])
    for flag in (
        "--storage.tsdb.retention.time=30d",
        "--storage.tsdb.retention.size=10GB",
        "--enable-feature=exemplar-storage",
        "--web.enable-remote-write-receiver",
    ):
        assert flag in command
