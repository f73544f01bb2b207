"""The admin as staff use it: log in, add a lead (and be refused twice), filter, run an action."""

import re

import pytest
from playwright.sync_api import expect

from leads import services
from tests.browser.conftest import (
    ACTION_EMAIL,
    REFERRAL_EMAILS,
    STAFF_PASSWORD,
    STAFF_USERNAME,
)

# django_db: so that pytest-django creates the test database the server runs on; the tests
# themselves reach it only through the server.
pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db]


def test_log_in_to_the_admin(anonymous):
    page = anonymous.page
    anonymous.goto("/admin/login/", "login")
    page.fill("#id_username", STAFF_USERNAME)
    page.fill("#id_password", STAFF_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r"/admin/$"))
    anonymous.shot("admin-index")
    expect(page.locator("#user-tools")).to_contain_text(STAFF_USERNAME)
    expect(page.locator("#leads-lead").get_by_role("link", name="Leads")).to_be_visible()
    anonymous.assert_clean()


def fill_lead(page, *, first_name, last_name, email, source="web", score="40"):
    page.fill("#id_first_name", first_name)
    page.fill("#id_last_name", last_name)
    page.fill("#id_email", email)
    page.fill("#id_company", "Analytical Engines Ltd")
    page.select_option("#id_source", source)
    page.fill("#id_score", score)


def test_add_a_lead_then_an_invalid_and_a_duplicate_email_are_refused(staff):
    page = staff.page
    staff.goto("/admin/leads/lead/add/", "add-form")
    fill_lead(page, first_name="Ada", last_name="Lovelace", email="ada@engines.example")
    page.click("input[name=_save]")
    page.wait_for_url(re.compile(r"/admin/leads/lead/$"))
    staff.shot("added")
    expect(page.locator(".messagelist .success")).to_contain_text("Ada Lovelace")
    expect(page.locator("#result_list")).to_contain_text("ada@engines.example")

    staff.goto("/admin/leads/lead/add/", "add-form-again")
    fill_lead(page, first_name="Not", last_name="Valid", email="not-an-email")
    page.click("input[name=_save]")
    page.wait_for_load_state()
    staff.shot("invalid-email")
    expect(page.locator(".errornote")).to_be_visible()
    expect(page.locator(".field-email .errorlist")).to_contain_text("valid email address")

    # The same mailbox in other letters: the address is unique whatever its case.
    fill_lead(page, first_name="Ada", last_name="Again", email="ADA@Engines.example")
    page.click("input[name=_save]")
    page.wait_for_load_state()
    staff.shot("duplicate-email")
    expect(page.locator(".errornote")).to_be_visible()
    expect(page.locator(".field-email .errorlist")).to_contain_text(services.DUPLICATE_EMAIL)
    assert "/add/" in page.url  # nothing was saved
    staff.assert_clean()


def test_filter_the_lead_changelist(staff):
    page = staff.page
    staff.goto("/admin/leads/lead/", "changelist")
    source_filter = page.locator('#changelist-filter details[data-filter-title="source"]')
    source_filter.get_by_role("link", name="Referral", exact=True).click()
    page.wait_for_url(re.compile(r"[?&]source__exact=referral"))
    staff.shot("filtered-referral")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(len(REFERRAL_EMAILS))
    for email in REFERRAL_EMAILS:
        expect(page.locator("#result_list")).to_contain_text(email)
    for n in range(len(REFERRAL_EMAILS)):
        expect(rows.nth(n).locator(".field-source")).to_have_text("Referral")
    # Every column in view at 1366 px: neither the page nor the results scroll sideways.
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth,"
        " document.querySelector('.results').scrollWidth,"
        " document.querySelector('.results').clientWidth]"
    )
    page_width, page_view, results_width, results_view = widths
    assert page_width <= page_view, widths
    assert results_width <= results_view, widths
    staff.assert_clean()


def test_run_an_admin_action_on_a_selected_lead(staff):
    page = staff.page
    staff.goto("/admin/leads/lead/", "changelist")
    row = page.locator("#result_list tbody tr", has_text=ACTION_EMAIL)
    expect(row.locator(".field-status")).to_have_text("New")
    row.locator("input.action-select").check()
    page.select_option("select[name=action]", "mark_contacted")
    staff.shot("action-chosen")
    page.locator("button[name=index]").click()
    page.wait_for_load_state()
    staff.shot("action-done")
    expect(page.locator(".messagelist .success")).to_have_text("1 lead marked contacted.")
    expect(row.locator(".field-status")).to_have_text("Contacted")
    staff.assert_clean()
