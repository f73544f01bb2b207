"""Configuration: the environment variables, the OpenAPI entry, and axes' own system checks."""

import json

import pytest
from django.core import checks
from drf_spectacular.generators import SchemaGenerator

from tests.security.test_check_deploy import production_env, run

PRINT_LOGIN_SETTINGS = (
    "import json, django; from django.conf import settings; django.setup(); "
    "print(json.dumps({'proxies': settings.TRUSTED_PROXIES, 'limit': settings.AXES_FAILURE_LIMIT,"
    " 'cooloff': settings.AXES_COOLOFF_TIME.total_seconds()}))"
)


def login_settings(**env) -> dict:
    result = run(["-c", PRINT_LOGIN_SETTINGS], production_env(**env))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_environment_sets_the_limits_and_the_trusted_proxies():
    assert login_settings() == {"proxies": [], "limit": 5, "cooloff": 900.0}
    assert login_settings(
        DJANGO_TRUSTED_PROXIES="10.0.0.0/8, 192.0.2.10,2001:db8::/32,",
        LOGIN_FAILURE_LIMIT="3",
        LOGIN_LOCKOUT_MINUTES="60",
    ) == {
        "proxies": ["10.0.0.0/8", "192.0.2.10/32", "2001:db8::/32"],
        "limit": 3,
        "cooloff": 3600.0,
    }


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DJANGO_TRUSTED_PROXIES": "nginx"}, "DJANGO_TRUSTED_PROXIES"),
        ({"DJANGO_TRUSTED_PROXIES": "10.0.0.5/8"}, "has host bits set"),
        ({"LOGIN_FAILURE_LIMIT": "0"}, "at least 1"),
    ],
)
def test_a_wrong_value_stops_the_start(env, message):
    result = run(["-c", PRINT_LOGIN_SETTINGS], production_env(**env))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_axes_system_checks_find_nothing():
    """Middleware, backend, lockout parameters, callables: django-axes' own checks."""
    found = [m for m in checks.run_checks(include_deployment_checks=True) if "axes" in m.id]
    assert found == []


@pytest.mark.django_db
def test_the_token_endpoint_is_documented_with_its_problems():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/v1/auth/token/"]["post"]
    assert operation["operationId"] == "auth_token_create"
    assert "security" not in operation or operation["security"] in ([], [{}])
    responses = operation["responses"]
    assert {"200", "400", "401", "429", "503"} <= set(responses)
    token = responses["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert schema["components"]["schemas"][token]["required"] == ["token"]
    for code in ("400", "401", "429"):
        assert list(responses[code]["content"]) == ["application/problem+json"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    credentials = schema["components"]["schemas"][body.rsplit("/", 1)[1]]
    assert credentials["required"] == ["password", "username"]
    assert credentials["properties"]["username"]["maxLength"] == 150
