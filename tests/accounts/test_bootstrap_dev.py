"""The management commands behind `make run` and `make demo-data`."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from leads.models import Lead, LeadStatus

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_bootstrap_creates_admin_and_token_once_on_an_empty_debug_database(settings, client):
    settings.DEBUG = True
    first = run("bootstrap_dev")
    token = Token.objects.get(user__username="admin")
    assert token.key in first
    assert get_user_model().objects.get(username="admin").is_superuser
    second = run("bootstrap_dev")
    assert token.key not in second
    assert "password" not in second
    assert "/api/docs/" in second
    assert "/health/ready" in second
    assert "/metrics" in second
    response = client.get("/api/v1/leads/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200


def test_bootstrap_creates_nothing_without_debug(settings):
    settings.DEBUG = False
    run("bootstrap_dev")
    assert not get_user_model().objects.exists()


def test_demo_data_builds_a_history(user):
    run("demo_data", "--count", "300", "--seed", "7")
    run("demo_data", "--count", "10", "--seed", "7")  # a second run adds, without clashes
    assert Lead.objects.count() == 310
    assert Lead.objects.values("status").distinct().count() == len(LeadStatus.values)
    converted = Lead.objects.filter(status=LeadStatus.CONVERTED)
    assert not converted.filter(converted_at__isnull=True).exists()
    dates = Lead.objects.dates("created_at", "month")
    assert len(dates) >= 5  # spread over about six months, not all "now"
