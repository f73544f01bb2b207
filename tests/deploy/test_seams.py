"""The app as its real peers call it, under the environment its manifests really give it.

Kubernetes: gunicorn runs with exactly the Deployment's environment (the ConfigMap, the example
Secret, the downward-API fields), only the database, the OTLP endpoint and the Sentry DSN
swapped for local ones; every probe is sent as kubelet sends it (the manifest's path and port,
`Host: <pod IP>:<port>`, `User-Agent: kube-probe/<major>.<minor>`, `Accept: */*`) and /metrics
is scraped as Prometheus 3 scrapes a pod (pod-IP Host, its default OpenMetrics Accept header,
gzip, the bearer token from the Secret). docker compose: the same with the `app` service's
environment and compose's Prometheus target.
"""

import gzip
import json
import re
from pathlib import Path

import pytest
import yaml

from tests.observability.otlp import otlp_receiver
from tests.reliability.sentry_ingest import sentry_ingest
from tests.servers import free_port, gunicorn, http_get, migrated_database_url, server_env

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
POD_IP = "10.244.1.23"  # only ever a Host header: every connection goes to 127.0.0.1
KUBELET_HEADERS = {"User-Agent": "kube-probe/1.30", "Accept": "*/*", "Connection": "close"}
# Prometheus 3's Accept header with its default scrape_protocols (upstream's scrape tests
# spell it out), with the other headers its scraper sends.
PROMETHEUS_HEADERS = {
    "User-Agent": "Prometheus/3.5.0",
    "Accept": (
        "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,"
        "application/openmetrics-text;version=0.0.1;q=0.5,"
        "text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,"
        "text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
    ),
    "Accept-Encoding": "gzip",
    "X-Prometheus-Scrape-Timeout-Seconds": "10",
}
APP_VARIABLES = (
    "OTEL_", "DATABASE_", "DJANGO_", "HEALTH_", "SENTRY_", "METRICS_", "GUNICORN_", "LOG_", "DB_",
    "POD_", "RELEASE_", "MEMORY_", "PROMETHEUS_", "WEB_CONCURRENCY",
)  # fmt: skip

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def container() -> dict:
    return load(K8S / "deployment.yaml")["spec"]["template"]["spec"]["containers"][0]


MEBIBYTES = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024}


def deployment_environment(pod_ip: str) -> dict[str, str]:
    """What kubelet gives the container: envFrom first, then env (which wins), resolved."""
    app = container()
    config = load(K8S / "configmap.yaml")["data"]
    secret = load(K8S / "secret.example.yaml")["stringData"]
    environment = {}
    for source in app.get("envFrom", []):
        assert source["configMapRef"]["name"] == "intelliflow-config"
        environment |= config
    for item in app["env"]:
        if "value" in item:
            environment[item["name"]] = item["value"]
            continue
        reference = item["valueFrom"]
        if "secretKeyRef" in reference:
            environment[item["name"]] = secret[reference["secretKeyRef"]["key"]]
        elif "configMapKeyRef" in reference:
            environment[item["name"]] = config[reference["configMapKeyRef"]["key"]]
        elif "fieldRef" in reference:
            assert reference["fieldRef"]["fieldPath"] == "status.podIP", reference
            environment[item["name"]] = pod_ip
        elif "resourceFieldRef" in reference:
            field = reference["resourceFieldRef"]
            assert field["resource"] == "limits.memory", field
            limit = app["resources"]["limits"]["memory"]
            value, unit = re.fullmatch(r"(\d+)(Ki|Mi|Gi)", limit).groups()
            assert field["divisor"] == "1Mi"
            environment[item["name"]] = str(int(int(value) * MEBIBYTES[unit]))
        else:
            raise AssertionError(f"unhandled valueFrom {reference}")
    return environment


def probes() -> list[tuple[str, str, int]]:
    """(probe, path, port) for each HTTP probe in the Deployment."""
    app = container()
    ports = {port["name"]: port["containerPort"] for port in app["ports"]}
    found = []
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        get = app[probe]["httpGet"]
        assert "httpHeaders" not in get  # kubelet sends its own Host, nothing else
        found.append((probe, get["path"], ports.get(get["port"], get["port"])))
    return found


def outside_variables() -> dict[str, str]:
    """The test process's environment without any of the app's own variables."""
    return {k: v for k, v in server_env().items() if not k.startswith(APP_VARIABLES)}


def scrape(port: int, host: str, token: str) -> tuple[int, str, str]:
    status, body, headers = http_get(
        f"http://127.0.0.1:{port}/metrics",
        headers=PROMETHEUS_HEADERS | {"Host": host, "Authorization": f"Bearer {token}"},
    )
    if headers.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    return status, body.decode(), headers.get("Content-Type", "")


@pytest.fixture
def kubernetes_pod(tmp_path):
    """gunicorn with the Deployment's environment; yields (port, environment)."""
    with otlp_receiver() as (otlp_endpoint, _), sentry_ingest() as (dsn, _):
        environment = deployment_environment(POD_IP) | {
            "DATABASE_URL": migrated_database_url(),
            "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_endpoint,
            "SENTRY_DSN": dsn,
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
        }
        port = free_port()
        with gunicorn(outside_variables() | environment, port, output=tmp_path / "app.log"):
            yield port, environment


def test_every_line_the_pod_writes_is_a_json_line_of_the_apps_schema(kubernetes_pod, tmp_path):
    """gunicorn's own lines included (the log pipeline keeps only the app's schema), and the
    start-up says where spans and errors go."""
    port, environment = kubernetes_pod
    http_get(f"http://127.0.0.1:{port}/health/alive", headers={"Host": "attacker.example"})
    http_get(f"http://127.0.0.1:{port}/api/v1/leads/", headers={"Host": f"{POD_IP}:8000"})
    lines = [json.loads(line) for line in (tmp_path / "app.log").read_text().splitlines()]
    for line in lines:
        assert {"timestamp", "level", "logger", "message", "service", "correlation_id"} <= set(
            line
        ), line
        assert line["service"] == environment["OTEL_SERVICE_NAME"]
    loggers = {line["logger"] for line in lines}
    assert "gunicorn.error" in loggers  # "Listening at", "Booting worker"
    assert "gunicorn.access" not in loggers  # the app's own access line is the one
    assert "intelliflow.access" in loggers
    messages = [line["message"] for line in lines if line["logger"] == "intelliflow.startup"]
    assert any(
        m.startswith("OpenTelemetry tracing initialized")
        and environment["OTEL_EXPORTER_OTLP_ENDPOINT"] in m
        and "TraceIdRatioBased{0.1}" in m
        for m in messages
    ), messages
    assert any(m.startswith("Sentry error reporting initialized") for m in messages), messages


def test_the_deployment_environment_is_resolved_completely():
    environment = deployment_environment(POD_IP)
    assert environment["POD_IP"] == POD_IP
    assert environment["MEMORY_LIMIT_MB"] == "768"
    assert environment["DJANGO_DEBUG"] == "false"
    assert POD_IP not in environment["DJANGO_ALLOWED_HOSTS"]  # allowed through POD_IP only


def test_kubelet_probes_pass_as_kubelet_sends_them(kubernetes_pod):
    port, _ = kubernetes_pod
    for probe, path, container_port in probes():
        status, body, _ = http_get(
            f"http://127.0.0.1:{port}{path}",
            headers=KUBELET_HEADERS | {"Host": f"{POD_IP}:{container_port}"},
        )
        assert status == 200, (probe, path, status, body[:300])


def test_prometheus_scrapes_the_pod_with_the_secrets_token(kubernetes_pod):
    port, environment = kubernetes_pod
    token = load(K8S / "secret.example.yaml")["stringData"]["METRICS_TOKEN"]
    assert environment["METRICS_TOKEN"] == token
    container_port = container()["ports"][0]["containerPort"]
    status, body, content_type = scrape(port, f"{POD_IP}:{container_port}", token)
    assert status == 200, body[:300]
    assert content_type.startswith("application/openmetrics-text")
    assert body.rstrip().endswith("# EOF")
    assert "intelliflow_" in body
    assert "django_http_requests" in body
    # A wrong token is still refused.
    assert scrape(port, f"{POD_IP}:{container_port}", "wrong")[0] in (401, 403)


@pytest.mark.parametrize("path", ["/api/v1/leads/", "/health/alive", "/metrics"])
def test_a_foreign_host_is_still_refused(kubernetes_pod, path):
    port, _ = kubernetes_pod
    status, _, _ = http_get(f"http://127.0.0.1:{port}{path}", headers={"Host": "attacker.example"})
    assert status == 400


# --- docker compose ----------------------------------------------------------------------------

COMPOSE = load(ROOT / "docker-compose.yml")
INTERPOLATION = re.compile(r"\$\{(?P<name>\w+)(?::?-(?P<default>[^}]*))?\}")


def dotenv() -> dict[str, str]:
    values = {}
    for line in (ROOT / ".env").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def interpolate(value: str, variables: dict[str, str]) -> str:
    """compose's `${VAR}`, `${VAR:-default}` and `${VAR-default}` with only .env set."""
    return INTERPOLATION.sub(
        lambda m: variables.get(m.group("name")) or (m.group("default") or ""), str(value)
    )


def compose_environment() -> dict[str, str]:
    environment = COMPOSE["services"]["app"]["environment"]
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {name: interpolate(value, dotenv()) for name, value in environment.items()}


def compose_prometheus_target() -> tuple[str, str]:
    """(Host, metrics path) of the app job in the stack's prometheus.yml."""
    prometheus = load(ROOT / "monitoring" / "prometheus.yml")
    (job,) = [job for job in prometheus["scrape_configs"] if job["job_name"] == "intelliflow"]
    (target,) = job["static_configs"][0]["targets"]
    credentials = job["authorization"]["credentials_file"]
    secret_name = Path(credentials).name
    assert credentials == f"/run/secrets/{secret_name}"
    assert secret_name in COMPOSE["services"]["prometheus"]["secrets"]
    return target, job.get("metrics_path", "/metrics")


def compose_metrics_token() -> str:
    """The token compose mounts at /run/secrets/<name> for Prometheus."""
    prometheus = load(ROOT / "monitoring" / "prometheus.yml")
    (job,) = [job for job in prometheus["scrape_configs"] if job["job_name"] == "intelliflow"]
    secret = COMPOSE["secrets"][Path(job["authorization"]["credentials_file"]).name]
    return dotenv()[secret["environment"]]


def test_compose_app_answers_compose_prometheus_and_its_health_check(tmp_path):
    environment = compose_environment()
    assert environment["WEB_CONCURRENCY"], "gunicorn would run one worker per host core"
    host, metrics_path = compose_prometheus_target()
    token = compose_metrics_token()
    assert environment["METRICS_TOKEN"] == token
    with otlp_receiver() as (otlp_endpoint, _):
        environment |= {
            "DATABASE_URL": migrated_database_url(),
            "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_endpoint,
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
        }
        port = free_port()
        with gunicorn(outside_variables() | environment, port, output=tmp_path / "app.log"):
            assert metrics_path == "/metrics"
            status, body, _ = scrape(port, host, token)
            assert status == 200, body[:300]
            assert "intelliflow_" in body
            # The compose health check and the image's HEALTHCHECK call 127.0.0.1:8000.
            for path in ("/health/ping", "/health/alive", "/health/ready"):
                status, _, _ = http_get(
                    f"http://127.0.0.1:{port}{path}", headers={"Host": "127.0.0.1:8000"}
                )
                assert status == 200, path
            status, _, _ = http_get(
                f"http://127.0.0.1:{port}/api/v1/leads/", headers={"Host": "attacker.example"}
            )
            assert status == 400
