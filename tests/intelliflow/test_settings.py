"""settings.py reads the environment once, with typed readers, and fails fast when it must."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRINT_SETTINGS = (
    "import json, django; from django.conf import settings; django.setup(); "
    "db = settings.DATABASES['default']; "
    "print(json.dumps({'debug': settings.DEBUG, 'engine': db['ENGINE'], "
    "'options': db.get('OPTIONS', {}), 'conn_max_age': db['CONN_MAX_AGE'], "
    "'hosts': settings.ALLOWED_HOSTS}, default=repr))"
)


def load_settings(**environ) -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "DB_"))
    }
    env |= {"DJANGO_SETTINGS_MODULE": "intelliflow.settings", **environ}
    return subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def run_python(code: str, **environ) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    env |= {"DJANGO_SETTINGS_MODULE": "intelliflow.settings", **environ}
    return subprocess.run(
        [sys.executable, *code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip


def test_serving_fails_fast_without_a_secret_key():
    result = run_python(["-c", "import intelliflow.wsgi"])
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DJANGO_SECRET_KEY is required" in result.stderr


def test_a_missing_secret_key_is_a_finding_of_check_observability_not_a_traceback():
    result = run_python(["manage.py", "check_observability", "--json"])
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    findings = {(c["area"], c["name"]): c for c in json.loads(result.stdout)["checks"]}
    secret = findings[("settings", "secret key")]
    assert secret["status"] == "fail"
    assert "DJANGO_SECRET_KEY" in secret["hint"]


@pytest.mark.parametrize(
    ("pod_ip", "allowed"), [("10.244.1.23", "10.244.1.23"), ("fd00::17", "[fd00::17]")]
)
def test_the_pods_own_ip_is_allowed_for_probes_and_scrapes(pod_ip, allowed):
    result = load_settings(DJANGO_SECRET_KEY="k" * 50, DJANGO_ALLOWED_HOSTS="crm.example",
                           POD_IP=pod_ip)  # fmt: skip
    assert json.loads(result.stdout)["hosts"] == ["crm.example", allowed]


def test_debug_defaults_to_false_and_runs_with_a_key():
    result = load_settings(DJANGO_SECRET_KEY="k" * 50, DJANGO_ALLOWED_HOSTS="crm.example,api")
    loaded = json.loads(result.stdout)
    assert loaded["debug"] is False
    assert loaded["hosts"] == ["crm.example", "api"]
    assert loaded["engine"] == "django_prometheus.db.backends.sqlite3"


def test_debug_needs_no_key():
    result = load_settings(DJANGO_DEBUG="true")
    assert json.loads(result.stdout)["debug"] is True


@pytest.mark.parametrize(
    ("environ", "pool", "conn_max_age"),
    [
        ({}, {"min_size": 1, "max_size": 4, "timeout": 5.0}, 0),
        ({"DB_POOL_MIN_SIZE": "2", "DB_POOL_MAX_SIZE": "8"}, {"min_size": 2, "max_size": 8}, 0),
        ({"DB_POOL_ENABLED": "false"}, None, 60),
    ],
)
def test_postgres_url_gets_a_pool_or_persistent_connections(environ, pool, conn_max_age):
    result = load_settings(
        DJANGO_DEBUG="true", DATABASE_URL="postgres://u:p@db.example:5432/crm", **environ
    )
    loaded = json.loads(result.stdout)
    assert loaded["engine"] == "observability.db.postgresql"
    assert loaded["conn_max_age"] == conn_max_age
    if pool is None:
        assert "pool" not in loaded["options"]
    else:
        assert pool.items() <= loaded["options"]["pool"].items()


def test_postgres_waits_are_bounded():
    """Connect, statement and client bounds come from DB_CONNECT_TIMEOUT / DB_STATEMENT_TIMEOUT;
    0 turns the statement bounds off (a long migration), never the connect timeout."""
    script = (
        "import json, django; from django.conf import settings; django.setup(); "
        "o = settings.DATABASES['default']['OPTIONS']; "
        "print(json.dumps({'connect_timeout': o['connect_timeout'], 'options': o.get('options'), "
        "'bound': o['pool']['connection_class'].wait_timeout}))"
    )

    def bounds(**environ):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DB_"))}
        env |= {"DJANGO_SETTINGS_MODULE": "intelliflow.settings", "DJANGO_DEBUG": "true"}
        env |= {"DATABASE_URL": "postgres://u:p@db.example:5432/crm", **environ}
        result = subprocess.run(
            [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
            timeout=60, check=True,
        )  # fmt: skip
        return json.loads(result.stdout)

    assert bounds() == {
        "connect_timeout": 3,
        "options": "-c statement_timeout=5000",
        "bound": 6.0,
    }
    assert bounds(DB_CONNECT_TIMEOUT="2", DB_STATEMENT_TIMEOUT="1.5") == {
        "connect_timeout": 2,
        "options": "-c statement_timeout=1500",
        "bound": 2.5,
    }
    assert bounds(DB_STATEMENT_TIMEOUT="0") == {
        "connect_timeout": 3,
        "options": None,
        "bound": None,
    }


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, {"server_side_binding": True, "prepare_threshold": 5}),
        ({"DB_PREPARE_THRESHOLD": "2"}, {"server_side_binding": True, "prepare_threshold": 2}),
        ({"DB_PREPARE_THRESHOLD": "0"}, {}),
    ],
)
def test_postgres_prepares_repeated_statements_unless_turned_off(environ, expected):
    result = load_settings(
        DJANGO_DEBUG="true", DATABASE_URL="postgres://u:p@db.example:5432/crm", **environ
    )
    options = json.loads(result.stdout)["options"]
    keys = ("server_side_binding", "prepare_threshold")
    assert {key: options[key] for key in keys if key in options} == expected
