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
