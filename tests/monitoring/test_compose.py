"""docker-compose.yml: valid, pinned, healthy, and every mounted file present.
No Docker engine runs here, so the stack is validated, not started."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.monitoring.conftest import ROOT, load_yaml

COMPOSE = load_yaml(ROOT / "docker-compose.yml")
SERVICES = COMPOSE["services"]
SEED_PORTS = {
    "grafana": {"3001:3000"},
    "prometheus": {"9090:9090"},
    "loki": {"3100:3100"},
    "tempo": {"3200:3200"},
    "otel-collector": {"4317:4317", "4318:4318", "13133:13133", "8888:8888"},
}


def test_compose_file_validates_against_the_compose_spec():
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "check-jsonschema"),
            "--builtin-schema",
            "vendor.compose-spec",
            str(ROOT / "docker-compose.yml"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def dockerfile_of(service: dict) -> Path | None:
    build = service.get("build")
    if build is None:
        return None
    if isinstance(build, str):
        return ROOT / build / "Dockerfile"
    return ROOT / build.get("context", ".") / build.get("dockerfile", "Dockerfile")


PINNED = re.compile(r"^[\w./-]+:[\w.-]*\d[\w.-]*$")  # a tag with a version number, not latest


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_image_is_pinned(name):
    service = SERVICES[name]
    if "image" in service and "build" not in service:
        assert PINNED.match(service["image"]), service["image"]
    dockerfile = dockerfile_of(service)
    if dockerfile is not None:
        bases = re.findall(r"^FROM\s+(\S+)", dockerfile.read_text(), re.M)
        assert bases, dockerfile
        for base in bases:
            assert PINNED.match(base), f"{dockerfile}: {base}"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_service_has_a_health_check(name):
    check = SERVICES[name].get("healthcheck") or {}
    assert check.get("test"), name
    assert not check.get("disable")


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_mounted_file_exists(name):
    for volume in SERVICES[name].get("volumes", []):
        source = volume.split(":", 1)[0]
        if source.startswith("./"):
            assert (ROOT / source).exists(), f"{name}: {source}"
    build_file = dockerfile_of(SERVICES[name])
    if build_file is not None:
        assert build_file.is_file(), build_file


def test_seed_ports_are_published():
    for name, ports in SEED_PORTS.items():
        assert ports <= set(SERVICES[name].get("ports", [])), name


def test_volumes_are_named_and_declared():
    declared = set(COMPOSE["volumes"])
    for service in SERVICES.values():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if not source.startswith(("./", "/")):
                assert source in declared, source


def test_app_sends_telemetry_to_the_collector_and_runs_migrations_first():
    app = SERVICES["app"]
    env = app["environment"]
    assert env["OTEL_ENABLED"] == "true"
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4318"
    assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "migrate" in SERVICES["migrate"]["command"]


def test_app_image_runs_as_non_root_with_a_ping_health_check():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^USER\s+(?!root|0\b)\S+", dockerfile, re.M)
    assert "HEALTHCHECK" in dockerfile
    assert "/health/ping" in dockerfile
    assert "gunicorn" in dockerfile


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_container_is_named_after_its_service(name):
    # The docs' `docker logs intelliflow-otel-collector` and friends.
    assert SERVICES[name]["container_name"] == f"intelliflow-{name}"


def test_app_and_migrate_run_two_gunicorn_workers_not_one_per_host_cpu():
    for name in ("app", "migrate"):
        assert SERVICES[name]["environment"]["WEB_CONCURRENCY"] == "2"


def test_node_exporter_is_an_optional_host_network_profile_prometheus_reaches():
    node = SERVICES["node-exporter"]
    assert node["profiles"] == ["host-metrics"]
    assert (node["network_mode"], node["pid"]) == ("host", "host")
    assert "/:/host:ro,rslave" in node["volumes"]
    assert "--path.rootfs=/host" in node["command"]
    assert "host.docker.internal:host-gateway" in SERVICES["prometheus"]["extra_hosts"]
    scrape = load_yaml(ROOT / "monitoring/prometheus.yml")["scrape_configs"]
    (job,) = [job for job in scrape if job["job_name"] == "node"]
    assert job["static_configs"][0]["targets"] == ["host.docker.internal:9100"]
    # Nothing required waits for an optional service.
    for service in SERVICES.values():
        assert "node-exporter" not in (service.get("depends_on") or {})


def test_alertmanager_service_is_pinned_published_and_checked():
    alertmanager = SERVICES["alertmanager"]
    assert alertmanager["image"].startswith("prom/alertmanager:v")
    assert "9093:9093" in alertmanager["ports"]
    assert "/-/ready" in " ".join(alertmanager["healthcheck"]["test"])
    assert (
        "./monitoring/alertmanager.yml:/etc/alertmanager/alertmanager.yml:ro"
        in (alertmanager["volumes"])
    )


def test_collector_keeps_its_file_storage_and_takes_cors_origins_from_the_environment():
    collector = SERVICES["otel-collector"]
    assert "otel-collector-data:/var/lib/otelcol/file_storage" in collector["volumes"]
    assert "/var/lib/docker/containers:/var/lib/docker/containers:ro" in collector["volumes"]
    assert collector["environment"]["OTEL_COLLECTOR_CORS_ALLOWED_ORIGINS"] == (
        "${OTEL_COLLECTOR_CORS_ALLOWED_ORIGINS:-}"
    )


def test_grafana_sets_no_feature_toggle():
    # traceToMetrics was removed from Grafana's feature toggles; trace-to-metrics links are
    # configured in the Tempo datasource (tracesToMetrics) alone.
    assert "GF_FEATURE_TOGGLES_ENABLE" not in SERVICES["grafana"]["environment"]
