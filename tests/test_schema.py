"""The OpenAPI schema validates, lists every endpoint and documents the problem responses."""

import re

import pytest
from django.core.management import call_command
from django.urls import get_resolver
from drf_spectacular.generators import SchemaGenerator

pytestmark = pytest.mark.django_db

EXPECTED_OPERATIONS = {
    ("/api/v1/auth/token/", "post"),
    ("/api/v1/leads/", "get"),
    ("/api/v1/leads/", "post"),
    ("/api/v1/leads/{id}/", "get"),
    ("/api/v1/leads/{id}/", "put"),
    ("/api/v1/leads/{id}/", "patch"),
    ("/api/v1/leads/{id}/", "delete"),
    ("/api/v1/leads/{id}/transition/", "post"),
    ("/api/v1/leads/{id}/restore/", "post"),
    ("/api/v1/leads/import/", "post"),
    ("/api/v1/leads/stats/", "get"),
    ("/api/v1/leads/export/", "get"),
}


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema):
    return {
        (path, method): operation
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    }


def test_spectacular_validates_the_schema_without_warnings(tmp_path):
    # --fail-on-warn turns every generator warning (an undocumented response, say) into a failure.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))


def test_every_endpoint_is_listed(schema):
    assert set(operations(schema)) == EXPECTED_OPERATIONS


def test_no_regex_leaks_into_paths():
    patterns = [str(p.pattern) for p in get_resolver().url_patterns]
    assert not any("$" in p or "^" in p for p in patterns)


@pytest.mark.parametrize(
    ("path", "method", "statuses"),
    [
        ("/api/v1/leads/", "get", {"200", "400", "401", "404", "429"}),
        ("/api/v1/leads/", "post", {"201", "400", "401", "403", "415", "429"}),
        ("/api/v1/leads/{id}/", "delete", {"204", "401", "403", "404"}),
        ("/api/v1/leads/{id}/transition/", "post", {"200", "400", "401", "404", "409"}),
        ("/api/v1/leads/import/", "post", {"201", "400", "409", "413"}),
    ],
)
def test_error_responses_are_documented_as_problems(schema, path, method, statuses):
    responses = operations(schema)[(path, method)]["responses"]
    assert statuses <= set(responses)
    for code, response in responses.items():
        if code >= "400":
            assert list(response["content"]) == ["application/problem+json"]


def test_list_is_documented_as_paginated(schema):
    body = operations(schema)[("/api/v1/leads/", "get")]["responses"]["200"]["content"]
    ref = body["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert set(schema["components"]["schemas"][ref]["properties"]) >= {"count", "next", "results"}


def test_swagger_ui_is_served_offline(client):
    page = client.get("/api/docs/")
    assert page.status_code == 200
    content = page.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in content
    # Every script, stylesheet and image the page loads is served from here. (Not a search for
    # "cdn": the page's random CSP nonce spells it now and then.)
    sources = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", content)
    assert sources
    assert [source for source in sources if not source.startswith("/")] == []
    bundle = client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert bundle.status_code == 200


def test_schema_endpoint_answers(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "IntelliFlow CRM API"
