"""The Django admin for leads, driven as a staff user would."""

import pytest
from django.urls import reverse

from leads.models import Lead, LeadStatus

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:leads_lead_changelist")


@pytest.fixture
def admin_client(client, staff_user):
    client.force_login(staff_user)
    return client


def run_action(admin_client, action: str, leads, query: str = "") -> None:
    response = admin_client.post(
        CHANGELIST + query,
        {"action": action, "_selected_action": [str(lead.pk) for lead in leads]},
    )
    assert response.status_code == 302


def test_changelist_with_filters_search_and_branding(admin_client, lead_factory):
    lead_factory(last_name="Lovelace", status="qualified")
    lead_factory(last_name="Turing", status="new")
    response = admin_client.get(CHANGELIST, {"status__exact": "qualified", "q": "love"})
    assert response.status_code == 200
    content = response.content.decode()
    assert "Lovelace" in content
    assert "Turing" not in content
    assert "IntelliFlow CRM administration" in content


def test_changelist_hides_deleted_leads_unless_asked(admin_client, lead_factory):
    from django.utils import timezone

    lead_factory(last_name="Gone", deleted_at=timezone.now())
    assert "Gone" not in admin_client.get(CHANGELIST).content.decode()
    assert "Gone" in admin_client.get(CHANGELIST, {"lifecycle": "deleted"}).content.decode()


def test_change_form_shows_audit_fields_read_only(admin_client, lead):
    response = admin_client.get(reverse("admin:leads_lead_change", args=[lead.pk]))
    assert response.status_code == 200
    assert 'name="status"' not in response.content.decode()  # moves go through actions


def test_add_sets_the_audit_fields(admin_client, staff_user):
    response = admin_client.post(
        reverse("admin:leads_lead_add"),
        {
            "first_name": "Ada",
            "last_name": "L",
            "email": "ada@example.com",
            "source": "web",
            "score": 10,
        },
    )
    assert response.status_code == 302, response.content
    lead = Lead.objects.get()
    assert lead.created_by == staff_user == lead.updated_by


def test_add_refuses_a_duplicate_email(admin_client, lead_factory):
    lead_factory(email="ada@example.com")
    response = admin_client.post(
        reverse("admin:leads_lead_add"),
        {
            "first_name": "A",
            "last_name": "L",
            "email": "ADA@example.com",
            "source": "web",
            "score": 1,
        },
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert Lead.objects.count() == 1


@pytest.mark.parametrize(
    ("taken", "email"),
    [
        ("ada@b\u00fccher.example", "ADA@xn--bcher-kva.example"),
        ("sam@example.com", "\u017fam@example.com"),
        ("ada@example.com", "\uff41\uff44\uff41@example.com"),
    ],
)
def test_add_refuses_an_equivalent_spelling_of_a_taken_email(
    admin_client, lead_factory, taken, email
):
    lead_factory(email=taken)
    response = admin_client.post(
        reverse("admin:leads_lead_add"),
        {"first_name": "A", "last_name": "L", "email": email, "source": "web", "score": 1},
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert Lead.objects.count() == 1


def test_add_stores_an_idn_address_in_ascii_form(admin_client):
    response = admin_client.post(
        reverse("admin:leads_lead_add"),
        {
            "first_name": "A",
            "last_name": "L",
            "email": "ada@B\u00fccher.example",
            "source": "web",
            "score": 1,
        },
    )
    assert response.status_code == 302, response.content
    assert Lead.objects.get().email == "ada@xn--bcher-kva.example"


def test_mark_contacted_moves_allowed_leads_and_reports_refusals(admin_client, lead_factory):
    fresh = lead_factory(status=LeadStatus.NEW)
    converted = lead_factory(status=LeadStatus.CONVERTED)
    run_action(admin_client, "mark_contacted", [fresh, converted])
    assert Lead.objects.get(pk=fresh.pk).status == LeadStatus.CONTACTED
    assert Lead.objects.get(pk=converted.pk).status == LeadStatus.CONVERTED
    messages = [str(m) for m in admin_client.get(CHANGELIST).context["messages"]]
    assert any("1 lead marked contacted" in m for m in messages)
    assert any("cannot move from converted" in m for m in messages)


def test_mark_lost(admin_client, lead):
    run_action(admin_client, "mark_lost", [lead])
    assert Lead.objects.get(pk=lead.pk).status == LeadStatus.LOST


def test_soft_delete_and_restore_actions(admin_client, lead):
    run_action(admin_client, "soft_delete", [lead])
    assert Lead.objects.get(pk=lead.pk).deleted_at is not None
    run_action(admin_client, "restore", [lead])  # the live list no longer holds it
    assert Lead.objects.get(pk=lead.pk).deleted_at is not None
    run_action(admin_client, "restore", [lead], query="?lifecycle=deleted")
    assert Lead.objects.get(pk=lead.pk).deleted_at is None


def test_bulk_hard_delete_is_not_offered(admin_client):
    response = admin_client.get(CHANGELIST)
    assert "delete_selected" not in response.content.decode()


def test_non_staff_is_sent_to_login(client, user):
    client.force_login(user)
    assert client.get(CHANGELIST).status_code == 302
