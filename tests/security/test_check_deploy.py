"""Production settings are the secure ones: `manage.py check --deploy` is clean with nothing but
the required values set, and development (DJANGO_DEBUG=true) still serves plain HTTP."""

import json
import secrets
import subprocess
import sys

import pytest
import yaml

from tests.servers import ROOT, server_env

PRINT_SECURITY_SETTINGS = (
    "import json, django; from django.conf import settings; django.setup(); "
    "print(json.dumps({name: getattr(settings, name) for name in ("
    "'DEBUG', 'SECURE_SSL_REDIRECT', 'SECURE_REDIRECT_EXEMPT', 'SECURE_PROXY_SSL_HEADER', "
    "'SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS', 'SECURE_HSTS_PRELOAD', "
    "'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE')}))"
)


def production_env(**overrides) -> dict:
    """What a production deployment must set, and nothing else: every security value defaulted."""
    env = server_env(
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="crm.example.com",
        METRICS_TOKEN=secrets.token_urlsafe(32),
        DJANGO_SETTINGS_MODULE="intelliflow.settings",
    )
    del env["DJANGO_SECURE_SSL_REDIRECT"]  # the test servers' plain-HTTP switch: not production
    return env | overrides


def run(args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def k8s_django_settings() -> dict:
    config = yaml.safe_load((ROOT / "deploy" / "k8s" / "configmap.yaml").read_text())["data"]
    return {name: value for name, value in config.items() if name.startswith("DJANGO_")}


@pytest.mark.parametrize(
    "extra_env",
    [{}, k8s_django_settings()],
    ids=["production-defaults", "k8s-configmap"],
)
def test_check_deploy_finds_nothing(extra_env):
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        production_env(**extra_env),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_does_fail_on_an_insecure_setting():
    """The test above can fail: the same command flags one insecure value."""
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        production_env(DJANGO_SECURE_HSTS_SECONDS="0"),
    )
    assert result.returncode != 0
    assert "security.W004" in result.stderr


def test_production_defaults_redirect_to_https_but_never_the_probes():
    loaded = json.loads(run(["-c", PRINT_SECURITY_SETTINGS], production_env()).stdout)
    assert loaded["DEBUG"] is False
    assert loaded["SECURE_SSL_REDIRECT"] is True
    assert loaded["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert loaded["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert loaded["SECURE_HSTS_PRELOAD"] is True
    assert loaded["SESSION_COOKIE_SECURE"] is True
    assert loaded["CSRF_COOKIE_SECURE"] is True
    # X-Forwarded-Proto is a client's word until a proxy is declared that replaces it.
    assert loaded["SECURE_PROXY_SSL_HEADER"] is None
    assert loaded["SECURE_REDIRECT_EXEMPT"]  # behaviour proved in test_https.py


def test_behind_a_proxy_x_forwarded_proto_is_trusted():
    env = production_env(DJANGO_BEHIND_PROXY="true")
    loaded = json.loads(run(["-c", PRINT_SECURITY_SETTINGS], env).stdout)
    assert loaded["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_development_serves_plain_http():
    env = production_env(DJANGO_DEBUG="true")
    del env["DJANGO_SECRET_KEY"]  # `make run` needs none
    loaded = json.loads(run(["-c", PRINT_SECURITY_SETTINGS], env).stdout)
    assert loaded["DEBUG"] is True
    assert loaded["SECURE_SSL_REDIRECT"] is False
    assert loaded["SECURE_HSTS_SECONDS"] == 0
    assert loaded["SESSION_COOKIE_SECURE"] is False
    assert loaded["CSRF_COOKIE_SECURE"] is False
