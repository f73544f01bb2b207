"""Content-Security-Policy on every page (django-csp): strict, and every inline part nonced."""

import json
import os
import re
import subprocess
import sys

import pytest

from tests.servers import ROOT

pytestmark = pytest.mark.django_db

HTML_PAGES = [
    "/",
    "/admin/login/",
    "/admin/",
    "/admin/leads/lead/",
    "/admin/leads/lead/add/",
    "/api/docs/",
    "/status/",
    "/no-such-page/",  # the 404 page
]


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in header.split(";"))}


@pytest.mark.parametrize("path", HTML_PAGES)
def test_every_html_page_is_under_a_strict_policy_with_its_inline_parts_nonced(path, admin_client):
    response = admin_client.get(path, secure=True)
    assert response["Content-Type"].startswith("text/html")
    directives = policy(response)
    assert directives["default-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    for name in ("script-src", "style-src"):
        assert "'unsafe-inline'" not in directives[name]
        assert "'unsafe-eval'" not in directives[name]
    html = response.content.decode()
    nonces = {value.removeprefix("'nonce-").removesuffix("'")
              for value in directives["script-src"] if value.startswith("'nonce-")}  # fmt: skip
    assert len(nonces) <= 1
    # Inline scripts and styles carry the response's nonce; no style or handler attributes.
    for tag in re.findall(r"<(?:script|style)\b[^>]*>", html):
        if "src=" not in tag:
            assert nonces, tag
            assert f'nonce="{next(iter(nonces))}"' in tag, tag
    assert not re.search(r"<[^>]+\sstyle=", html), "an inline style attribute"
    assert not re.search(r"<[^>]+\son[a-z]+=", html), "an inline event handler"


def test_swagger_ui_gets_a_fresh_nonce_for_its_initialiser_and_style(admin_client):
    first, second = (admin_client.get("/api/docs/", secure=True) for _ in range(2))
    nonce = policy(first)["script-src"][1]
    assert re.fullmatch(r"'nonce-[A-Za-z0-9+/=]{20,}'", nonce)
    assert policy(first)["style-src"][1] == nonce
    assert policy(second)["script-src"][1] != nonce
    html = first.content.decode()
    assert html.count(f'nonce="{nonce[7:-1]}"') == 2  # the initialiser and the page style


def test_pages_without_inline_parts_get_no_nonce(client):
    assert all("nonce" not in value for value in policy(client.get("/", secure=True)).values())


def load_policy_headers(**environ) -> dict:
    script = (
        "import json, django; from django.conf import settings; django.setup(); "
        "print(json.dumps({name: getattr(settings, name, None) is not None for name in "
        "('CONTENT_SECURITY_POLICY', 'CONTENT_SECURITY_POLICY_REPORT_ONLY')} | "
        "{'report-uri': (getattr(settings, 'CONTENT_SECURITY_POLICY', None) or "
        "settings.CONTENT_SECURITY_POLICY_REPORT_ONLY)['DIRECTIVES']['report-uri']}))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_CSP")}
    env |= {"DJANGO_SETTINGS_MODULE": "intelliflow.settings", "DJANGO_DEBUG": "true", **environ}
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
    return json.loads(result.stdout)


def test_report_only_mode_and_report_uri_are_set_by_variables():
    assert load_policy_headers() == {
        "CONTENT_SECURITY_POLICY": True,
        "CONTENT_SECURITY_POLICY_REPORT_ONLY": False,
        "report-uri": None,
    }
    assert load_policy_headers(
        DJANGO_CSP_REPORT_ONLY="true", DJANGO_CSP_REPORT_URI="https://csp.example/report"
    ) == {
        "CONTENT_SECURITY_POLICY": False,
        "CONTENT_SECURITY_POLICY_REPORT_ONLY": True,
        "report-uri": "https://csp.example/report",
    }


def test_report_only_sends_the_same_policy_under_the_report_only_header(client, settings):
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = settings.CONTENT_SECURITY_POLICY
    del settings.CONTENT_SECURITY_POLICY
    response = client.get("/api/docs/", secure=True)
    assert "Content-Security-Policy" not in response
    assert "default-src 'self'" in response["Content-Security-Policy-Report-Only"]
    assert "'nonce-" in response["Content-Security-Policy-Report-Only"]


def test_responses_that_are_not_pages_allow_nothing_and_probes_get_no_policy(api_client):
    response = api_client.get("/api/v1/leads/", secure=True)
    assert response["Content-Type"] == "application/json"
    assert response["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    problem = api_client.get("/api/v1/leads/not-a-uuid/", secure=True)
    assert problem["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    for path in ("/health/ping", "/health/check", "/metrics"):
        response = api_client.get(path, secure=True)
        assert "Content-Security-Policy" not in response, path
        assert "Content-Security-Policy-Report-Only" not in response, path


def test_report_only_mode_covers_responses_that_are_not_pages(client, settings):
    from pages.csp import ContentSecurityPolicyMiddleware

    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = settings.CONTENT_SECURITY_POLICY
    del settings.CONTENT_SECURITY_POLICY
    middleware = ContentSecurityPolicyMiddleware(lambda request: None)
    assert middleware.header == "Content-Security-Policy-Report-Only"
    assert middleware.excluded == ("/health/", "/metrics")
