"""The settings (intelliflow/settings/) read the environment once, with typed readers, fail fast
when they must, and are not changed once loaded."""

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


# Serves one traced request through intelliflow.wsgi, then compares every setting with what the
# settings module computed before the process was set up (a copy: a writer could change a list
# in place). The raw values (`_wrapped`), since reading STATIC_URL adds the script prefix.
# Libraries only fill in what the settings leave out, as they document: Django the defaults of
# each DATABASES entry (ConnectionHandler.configure_settings), django-axes its AXES_* defaults
# (axes/conf.py, `getattr(settings, name, default)`); a value the settings set stays as set.
SERVING_PROCESS = """
import copy, json, wsgiref.util
import intelliflow.settings as module
from django.conf import global_settings
computed = {n: copy.deepcopy(getattr(global_settings, n)) for n in dir(global_settings)
            if n.isupper()}
computed |= {n: copy.deepcopy(getattr(module, n)) for n in dir(module) if n.isupper()}
import intelliflow.wsgi
from django.conf import settings
environ = {"PATH_INFO": "/api/v1/leads/"}
wsgiref.util.setup_testing_defaults(environ)
headers = []
intelliflow.wsgi.application(environ, lambda status, h, exc_info=None: headers.extend(h))

def kept(before, after):
    if isinstance(before, dict) and isinstance(after, dict):
        return all(key in after and kept(value, after[key]) for key, value in before.items())
    return before == after

now = {n: v for n, v in vars(settings._wrapped).items() if n.isupper()}
print(json.dumps({
    "changed": sorted(n for n in computed if n not in now or not kept(computed[n], now[n])),
    "changed_in_place": sorted(n for n in computed if n in dir(module)
                               and not kept(computed[n], getattr(module, n))),
    "added": sorted(now.keys() - computed.keys() - {"SETTINGS_MODULE"}),
    "middleware": settings.MIDDLEWARE,
    "traced": any(name.lower() == "traceresponse" for name, _ in headers),
}))
"""


def test_a_serving_process_with_tracing_writes_no_setting():
    """The tracing middleware is listed by the settings (first), and DjangoInstrumentor, which
    would insert it into settings.MIDDLEWARE itself, writes nothing there."""
    result = run_python(
        ["-c", SERVING_PROCESS],
        DJANGO_DEBUG="true",
        OTEL_ENABLED="true",
        OTEL_TRACES_EXPORTER="none",
    )
    assert result.returncode == 0, result.stderr
    served = json.loads(result.stdout.strip().splitlines()[-1])
    assert served["changed"] == []
    assert served["changed_in_place"] == []
    assert [name for name in served["added"] if not name.startswith("AXES_")] == []
    middleware = served["middleware"]
    assert middleware[0] == TRACING_MIDDLEWARE
    assert middleware.count(TRACING_MIDDLEWARE) == 1
    assert middleware[1] == "observability.errors.SentryRequestMiddleware"
    assert served["traced"], "the listed tracing middleware did not trace the request"


TRACING_MIDDLEWARE = (
    "opentelemetry.instrumentation.django.middleware.otel_middleware._DjangoMiddleware"
)

# A process that loads Django without wsgi.py, asgi.py or manage.py (a test runner, a script).
ANY_PROCESS = """
import django, json
django.setup()
from django.conf import settings
from django.test import Client
response = Client().get("/", HTTP_HOST="localhost")
print(json.dumps({"status": response.status_code, "first": settings.MIDDLEWARE[0]}))
"""


def test_any_process_that_loads_django_with_tracing_on_can_serve_a_request():
    """The listed tracing middleware has no tracer until DjangoInstrumentor configures it; the
    observability app does that when Django loads, not only the entry points."""
    result = run_python(["-c", ANY_PROCESS], DJANGO_DEBUG="true", OTEL_ENABLED="true")
    assert result.returncode == 0, result.stderr
    served = json.loads(result.stdout.strip().splitlines()[-1])
    assert served == {"status": 200, "first": TRACING_MIDDLEWARE}


def test_the_listed_tracing_middleware_is_the_one_the_instrumentor_configures():
    from django.conf import settings
    from opentelemetry.instrumentation.django import DjangoInstrumentor

    assert settings.OTEL_DJANGO_MIDDLEWARE == TRACING_MIDDLEWARE
    assert DjangoInstrumentor._opentelemetry_middleware == TRACING_MIDDLEWARE


@pytest.mark.parametrize(
    ("environ", "traced"),
    [
        ({}, False),
        ({"OTEL_ENABLED": "true"}, True),
        ({"OTEL_ENABLED": "true", "OTEL_SDK_DISABLED": "true"}, False),
        ({"OTEL_ENABLED": "true", "OTEL_PYTHON_DJANGO_INSTRUMENT": "False"}, False),
    ],
)
def test_middleware_lists_the_tracing_middleware_exactly_when_requests_are_traced(environ, traced):
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        "print(json.dumps(settings.MIDDLEWARE))"
    )
    result = run_python(["-c", code], DJANGO_DEBUG="true", **environ)
    middleware = json.loads(result.stdout.strip().splitlines()[-1])
    assert (TRACING_MIDDLEWARE in middleware) is traced
    assert middleware[traced] == "observability.errors.SentryRequestMiddleware"


def test_the_logger_class_comes_from_logging_config_not_from_an_import():
    """settings.LOGGING_CONFIG installs SafeExtraLogger when django.setup() configures logging;
    importing observability.logging changes nothing."""
    code = (
        "import json, logging; import observability.logging; "
        "imported = logging.getLoggerClass().__name__; "
        "import django; django.setup(); "
        "logging.getLogger('tests.after_setup').warning('m', extra={'message': 'clash'}); "
        "print(json.dumps([imported, logging.getLoggerClass().__name__]))"
    )
    result = run_python(["-c", code], DJANGO_DEBUG="true")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == ["Logger", "SafeExtraLogger"]
