"""Swagger UI, the status page, the landing page and the site's icon, as a browser gets them."""

import re

import pytest
from playwright.sync_api import expect

# django_db: so that pytest-django creates the test database the server runs on; the tests
# themselves reach it only through the server.
pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db]


def test_swagger_ui_lists_leads_with_the_admin_session(staff):
    page = staff.page
    staff.goto("/api/docs/", "swagger")
    operation = page.locator(
        ".opblock.opblock-get", has=page.locator('[data-path="/api/v1/leads/"]')
    ).first
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    staff.shot("swagger-try-it-out")
    with page.expect_response(re.compile(r"/api/v1/leads/(\?|$)")) as listed:
        operation.get_by_role("button", name="Execute").click()
    assert listed.value.status == 200
    status = operation.locator(".live-responses-table tbody .response-col_status")
    expect(status).to_have_text("200")
    staff.shot("swagger-executed")
    staff.assert_clean()


def test_status_page(anonymous):
    response = anonymous.goto("/status/", "status")
    assert response is not None
    assert response.status == 200, f"/status/ answered {response.status}"
    expect(anonymous.page.locator("h1")).to_contain_text("IntelliFlow CRM")
    anonymous.assert_clean()


def test_landing_page_links_to_admin_docs_and_status(anonymous, app):
    response = anonymous.goto("/", "landing")
    assert response is not None
    assert response.status == 200, f"/ answered {response.status}"
    links = anonymous.page.eval_on_selector_all("a[href]", "anchors => anchors.map(a => a.href)")
    for path in ("/admin/", "/api/docs/", "/status/"):
        assert f"{app.url}{path}" in links, (path, links)
    anonymous.assert_clean()


def test_favicon(anonymous):
    # Fetched, not opened as a page: Chromium's own viewer for an image styles itself inline,
    # which a Content-Security-Policy on the image's response then reports as a violation.
    response = anonymous.page.request.get("/favicon.ico")
    assert response.status == 200, f"/favicon.ico answered {response.status}"
    assert response.headers["content-type"].startswith("image/"), response.headers
    anonymous.assert_clean()
