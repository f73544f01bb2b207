"""The Kubernetes manifests: valid against the Kubernetes schemas, and consistent with the app
(probe paths, ports, variable names, shutdown timings)."""

import re
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from django.urls import resolve

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
MANIFESTS = sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")
KUBERNETES_VERSION = "1.30.0"


def load(name: str) -> dict:
    return yaml.safe_load((K8S / name).read_text())


DEPLOYMENT = load("deployment.yaml")
CONTAINER = DEPLOYMENT["spec"]["template"]["spec"]["containers"][0]
CONFIG = load("configmap.yaml")["data"]


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_manifest_validates_strictly(path):
    for document in yaml.safe_load_all(path.read_text()):
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_kustomization_lists_every_manifest_but_the_secret_example():
    listed = set(load("kustomization.yaml")["resources"])
    assert listed == {p.name for p in MANIFESTS} - {"secret.example.yaml"}


def test_service_monitor_scrapes_metrics_with_the_token():
    monitor = yaml.safe_load((K8S / "prometheus-operator" / "servicemonitor.yaml").read_text())
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["path"] == "/metrics"
    assert endpoint["port"] == "http"
    assert endpoint["authorization"]["credentials"]["key"] == "METRICS_TOKEN"


@pytest.mark.parametrize(
    ("probe", "path"),
    [("startupProbe", "/health/ping"), ("livenessProbe", "/health/alive"),
     ("readinessProbe", "/health/ready")],
)  # fmt: skip
def test_probes_point_at_the_health_endpoints(probe, path):
    get = CONTAINER[probe]["httpGet"]
    assert get["path"] == path
    assert resolve(path).url_name.startswith("health-")
    assert get["port"] == CONTAINER["ports"][0]["name"]


def test_ports_match_gunicorn_and_the_image():
    port = CONTAINER["ports"][0]["containerPort"]
    assert CONFIG["GUNICORN_BIND"].endswith(f":{port}")
    assert f"EXPOSE {port}" in (ROOT / "Dockerfile").read_text()
    service_port = load("service.yaml")["spec"]["ports"][0]
    assert service_port["targetPort"] == CONTAINER["ports"][0]["name"]


def known_variables() -> set[str]:
    settings_text = "".join(
        path.read_text() for path in sorted((ROOT / "intelliflow" / "settings").glob("*.py"))
    )
    names = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z0-9_]+)"', settings_text))
    names |= set(
        re.findall(r'environ\.get\("([A-Z0-9_]+)"', (ROOT / "gunicorn.conf.py").read_text())
    )
    # Read by prometheus_client and gunicorn themselves, not by our code.
    names |= {"PROMETHEUS_MULTIPROC_DIR", "WEB_CONCURRENCY"}
    return names


def test_every_variable_set_in_the_manifests_is_one_the_app_reads():
    known = known_variables()
    names = set(CONFIG) | {item["name"] for item in CONTAINER["env"]}
    assert names - known == set()


def test_every_secret_of_the_design_comes_from_the_secret():
    from_secret = {
        item["name"] for item in CONTAINER["env"] if "secretKeyRef" in item.get("valueFrom", {})
    }
    assert {
        "DJANGO_SECRET_KEY",
        "DATABASE_URL",
        "SENTRY_DSN",
        "METRICS_TOKEN",
        "HEALTH_TOKEN",
    } <= from_secret
    assert set(load("secret.example.yaml")["stringData"]) == from_secret


def test_probe_and_shutdown_timings_fit_the_health_guarantees():
    budget = float(CONFIG["HEALTH_CHECK_TIMEOUT_SECONDS"])
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert CONTAINER[probe]["timeoutSeconds"] > budget
    pre_stop = int(CONTAINER["lifecycle"]["preStop"]["exec"]["command"][-1])
    drain = float(CONFIG["HEALTH_DRAIN_SECONDS"])
    graceful = int(CONFIG["GUNICORN_GRACEFUL_TIMEOUT"])
    grace = DEPLOYMENT["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert pre_stop + drain + graceful < grace
    assert drain < graceful  # the worker exits on its own before gunicorn kills it


def test_pods_run_as_non_root_with_a_read_only_root():
    pod = DEPLOYMENT["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    security = CONTAINER["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    assert CONTAINER["resources"]["limits"]["memory"]


def test_memory_limit_reaches_the_app_for_the_memory_alert():
    env = {item["name"]: item for item in CONTAINER["env"]}
    field = env["MEMORY_LIMIT_MB"]["valueFrom"]["resourceFieldRef"]
    assert (field["resource"], field["divisor"]) == ("limits.memory", "1Mi")


def test_the_hpa_owns_the_replica_count():
    assert "replicas" not in DEPLOYMENT["spec"]  # an apply would reset the HPA's count
    hpa = load("hpa.yaml")["spec"]
    assert hpa["scaleTargetRef"]["name"] == DEPLOYMENT["metadata"]["name"]


def test_each_release_has_its_own_migration_job():
    """A Job's pod template is immutable: the next release's apply would fail on a Job of the
    same name. The name carries the image tag, so every release applies a new Job."""
    job = load("migrate-job.yaml")
    tag = CONTAINER["image"].rsplit(":", 1)[1]
    assert job["metadata"]["name"] == f"intelliflow-migrate-{tag.replace('.', '-')}"
    (migrate,) = job["spec"]["template"]["spec"]["containers"]
    assert migrate["image"] == CONTAINER["image"]
    env = {item["name"]: item.get("value") for item in CONTAINER["env"]}
    assert env["RELEASE_ID"] == tag


def test_the_pod_ip_reaches_the_app_for_probes_and_scrapes():
    env = {item["name"]: item for item in CONTAINER["env"]}
    assert env["POD_IP"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"
