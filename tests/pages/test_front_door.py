"""The front door (/), the site's icon, and the admin's way back to them."""

import re

import pytest

pytestmark = pytest.mark.django_db


def test_the_landing_page_says_what_this_is_and_links_every_page_and_endpoint(client):
    response = client.get("/", secure=True)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    html = response.content.decode()
    assert "<title>IntelliFlow CRM</title>" in html
    links = set(re.findall(r'href="([^"]+)"', html))
    expected = ["/admin/", "/api/docs/", "/status/", "/api/schema/", "/api/v1/", "/metrics",
                "/health/check", "/health/ready", "/health/alive", "/health/ping"]  # fmt: skip
    for href in expected:
        assert href in links, href
    for href in links:  # every link answers (or asks for credentials)
        if href.startswith("/") and not href.startswith("/static/"):
            assert client.get(href, secure=True).status_code in {200, 302, 401, 503}, href


def test_the_landing_page_is_read_only(client):
    assert client.head("/", secure=True).status_code == 200
    response = client.post("/", secure=True)
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


def test_the_admins_view_site_link_leads_to_the_landing_page(admin_client):
    html = admin_client.get("/admin/", secure=True).content.decode()
    assert re.search(r'<a href="/">View site</a>', html)


def test_favicon_is_an_icon_on_every_page(client):
    response = client.get("/favicon.ico", secure=True)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    body = b"".join(response.streaming_content)
    assert body[:4] == b"\x00\x00\x01\x00"  # an ICO header holding one image
    assert b"PNG" in body[:40]
    svg = client.get("/static/intelliflow/favicon.svg", secure=True)
    assert svg.status_code == 200
    for page in ("/", "/admin/login/", "/status/"):
        html = client.get(page, secure=True).content.decode()
        assert 'rel="icon"' in html, page


def test_the_add_form_shows_no_id_or_audit_fields_and_the_change_form_does(admin_client):
    from tests.factories import LeadFactory

    add = admin_client.get("/admin/leads/lead/add/", secure=True).content.decode()
    assert "field-id" not in add
    assert "Audit" not in add
    lead = LeadFactory()
    change = admin_client.get(f"/admin/leads/lead/{lead.pk}/change/", secure=True)
    html = change.content.decode()
    assert str(lead.pk) in html
    assert "field-id" in html
    assert "Audit" in html
