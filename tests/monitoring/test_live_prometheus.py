"""A real Prometheus server scraping the real app: every PromQL expression of the dashboards and
the rules parses, and those built on the app's own metrics return data.

Two gunicorn instances are scraped: a healthy one on the test database, and one whose database
is a closed port, so error, exception and database-down series exist too. The test starts and
kills only its own processes and is bounded in time.
"""

import json
import re
import signal
import subprocess
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.monitoring.conftest import (
    DASHBOARDS,
    RULE_FILES,
    all_rules,
    load_json,
    prometheus_binary,
)
from tests.servers import free_port, gunicorn, http_get, migrated_database_url, server_env

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TOKEN = "live-test-token"
APP_METRIC = re.compile(r"\b(django_[a-z_]+|intelliflow[_:][a-z0-9_:]+)")
# Series that exist only with the rest of the stack (span metrics, node-exporter).
FOREIGN_METRIC = re.compile(r"\b(traces_[a-z_]+|node_[a-z_]+)")


def dashboard_expressions() -> list[tuple[str, str]]:
    found = []
    for path in DASHBOARDS:
        for panel in load_json(path)["panels"]:
            for target in panel["targets"]:
                if target["datasource"]["type"] == "prometheus":
                    expr = target["expr"].replace("$__rate_interval", "1m")
                    found.append((f"{path.stem}: {panel['title']}", expr.replace("$__range", "5m")))
    return found


def rule_expressions() -> list[tuple[str, str]]:
    return [(rule.get("alert") or rule["record"], rule["expr"]) for rule in all_rules()]


def query(prometheus: str, expr: str) -> dict:
    url = f"{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    status, body, _ = http_get(url)
    return {"http": status, **json.loads(body)}


def wait_ready(url: str, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if http_get(f"{url}/-/ready", timeout=1)[0] == 200:
                return
        except OSError:
            pass
        assert process.poll() is None, "prometheus exited"
        assert time.monotonic() < deadline, "prometheus not ready"
        time.sleep(0.3)


@pytest.fixture
def prometheus(tmp_path):
    """Start Prometheus on loopback with our rules (evaluated every second here)."""
    started: list[subprocess.Popen] = []

    def start(targets: list[str]) -> str:
        token = tmp_path / "token"
        token.write_text(TOKEN)
        rules = []
        for path in RULE_FILES:
            fast = tmp_path / path.name
            fast.write_text(re.sub(r"interval: \d+s", "interval: 1s", path.read_text()))
            rules.append(str(fast))
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": rules,
            "scrape_configs": [
                {
                    "job_name": "intelliflow",
                    "authorization": {"type": "Bearer", "credentials_file": str(token)},
                    "static_configs": [{"targets": targets}],
                }
            ],
        }
        (tmp_path / "prometheus.yml").write_text(json.dumps(config))
        port = free_port()
        process = subprocess.Popen(
            [
                prometheus_binary("prometheus"),
                f"--config.file={tmp_path / 'prometheus.yml'}",
                f"--storage.tsdb.path={tmp_path / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--enable-feature=exemplar-storage",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(process)
        url = f"http://127.0.0.1:{port}"
        wait_ready(url, process)
        return url

    yield start
    for process in started:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def drive_traffic(healthy: int, broken: int) -> None:
    api = f"http://127.0.0.1:{healthy}/api/v1/leads/"
    for port in (healthy, broken):
        for probe in ("ping", "ready", "check", "alive"):
            http_get(f"http://127.0.0.1:{port}/health/{probe}")
    http_get(f"{api}nothing-here/")  # 404
    http_get(api)  # 401 (no token)
    # The instance without a database: token lookups raise, so 500s and exceptions.
    broken_api = f"http://127.0.0.1:{broken}/api/v1/leads/"
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: http_get(broken_api, {"Authorization": "Token x"}), range(4)))


def test_every_promql_expression_parses_and_app_queries_return_data(prometheus, api_token):
    healthy, broken = free_port(), free_port()
    common = {
        "METRICS_TOKEN": TOKEN,
        "METRICS_SAMPLE_SECONDS": "0.5",
        "MEMORY_LIMIT_MB": "2048",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
    }
    healthy_env = server_env(DATABASE_URL=migrated_database_url(), **common)
    broken_env = server_env(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{free_port()}/gone",
        DB_POOL_TIMEOUT="0.5",
        **common,
    )
    with gunicorn(healthy_env, healthy), gunicorn(broken_env, broken):
        url = prometheus([f"127.0.0.1:{healthy}", f"127.0.0.1:{broken}"])
        drive_traffic(healthy, broken)
        headers = {"Authorization": f"Token {api_token}", "Content-Type": "application/json"}
        create_leads(healthy, headers)
        deadline = time.monotonic() + 45
        missing = expressions = None
        while time.monotonic() < deadline:
            time.sleep(2)
            drive_traffic(healthy, broken)
            expressions = dashboard_expressions() + rule_expressions()
            results = {name: query(url, expr) for name, expr in expressions}
            for name, result in results.items():
                assert result["http"] == 200, (name, result)
                assert result["status"] == "success", (name, result)
            missing = [
                name
                for (name, expr) in expressions
                if APP_METRIC.search(expr)
                and not FOREIGN_METRIC.search(expr)
                and not has_data(url, expr, name)
            ]
            if not missing:
                break
        assert not missing, f"no data for: {missing}"
    assert len(expressions) > 30


def has_data(url: str, expr: str, name: str) -> bool:
    """A dashboard query must return series; an alert (a comparison that is quiet, rightly)
    must have data for every metric it reads."""
    if not name.startswith("IntelliFlow"):
        return bool(query(url, expr)["data"]["result"])
    return all(
        query(url, f'count({{__name__="{metric}"}})')["data"]["result"]
        for metric in set(APP_METRIC.findall(expr))
    )


def create_leads(port: int, headers: dict) -> None:
    import urllib.request

    base = f"http://127.0.0.1:{port}/api/v1/leads/"
    for number in range(3):
        body = json.dumps(
            {"first_name": "Live", "last_name": str(number), "email": f"live{number}@p.example"}
        ).encode()
        request = urllib.request.Request(base, data=body, headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            lead = json.loads(response.read())
        move = urllib.request.Request(
            f"{base}{lead['id']}/transition/",
            data=json.dumps({"status": "contacted"}).encode(),
            headers=headers,
            method="POST",
        )
        urllib.request.urlopen(move, timeout=10).close()


@pytest.fixture
def api_token():
    """A user and token committed to the test database, so the served app can see them."""
    from rest_framework.authtoken.models import Token

    from tests.factories import UserFactory

    return Token.objects.create(user=UserFactory(username="live-prometheus")).key
