"""What a lockout leaves behind: one WARNING line with the address and the parameters that
tripped, counters by endpoint, and never the password (in logs or in axes' own records)."""

import logging

import pytest
from axes.models import AccessAttempt
from django.test import Client
from prometheus_client import REGISTRY

from accounts.metrics import ENDPOINTS, REASONS
from tests.accounts.conftest import CLIENT, OTHER_CLIENT, PASSWORD, WRONG, admin_login, token_login

pytestmark = pytest.mark.django_db


SERIES = [
    (f"intelliflow_login_{name}_total", {"endpoint": endpoint})
    for name in ("failures", "lockouts")
    for endpoint in ENDPOINTS
] + [
    ("intelliflow_login_refused_total", {"endpoint": endpoint, "reason": reason})
    for endpoint in ENDPOINTS
    for reason in REASONS
]


class Counters:
    """The login counters' moves since creation, by (name without prefix, *label values)."""

    def __init__(self):
        self.before = self.read()

    @staticmethod
    def read() -> dict:
        return {
            (name.removeprefix("intelliflow_login_").removesuffix("_total"), *labels.values()): (
                REGISTRY.get_sample_value(name, labels)
            )
            for name, labels in SERIES
        }

    def moved(self) -> dict:
        after = self.read()
        return {
            key: after[key] - self.before[key] for key in after if after[key] != self.before[key]
        }


def lockout_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "intelliflow.security"]


def test_every_counter_exists_at_zero_for_every_endpoint_from_the_start(client, settings):
    settings.METRICS_TOKEN = ""
    text = client.get("/metrics").content.decode()
    for name, labels in SERIES:
        assert name + "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}" in text


def test_counters_by_endpoint(user, limit):
    counters = Counters()
    for _ in range(limit):
        token_login(user.username, WRONG)
    token_login(user.username, PASSWORD)  # refused
    admin_login(user.username, PASSWORD)  # refused
    assert counters.moved() == {
        ("failures", "token"): limit + 1,  # a refused login is a failed one too
        ("lockouts", "token"): 1,
        ("refused", "token", "locked_out"): 1,
        ("failures", "admin"): 1,
        ("refused", "admin", "locked_out"): 1,
    }


def test_one_warning_line_per_lockout_with_the_address_and_what_tripped(user, limit, caplog):
    caplog.set_level(logging.INFO)
    for _ in range(limit):
        token_login(user.username, WRONG)
    for _ in range(3):
        token_login(user.username, PASSWORD)  # refused: no further line
    (record,) = lockout_records(caplog)
    assert record.levelno == logging.WARNING
    assert record.getMessage() == (
        f"login lockout on token after {limit} failed logins, by ip_address and username: "
        "refused for 15 minutes"
    )
    extra = record.__dict__
    assert extra["client.address"] == CLIENT
    assert extra["user.name"] == user.username
    assert extra["login.endpoint"] == "token"
    assert extra["login.failures"] == limit
    assert extra["login.locked_by"] == ["ip_address", "username"]
    assert extra["login.cooloff_minutes"] == 15


def test_a_refused_attempt_adds_only_its_access_line(user, limit, json_logs):
    for _ in range(limit):
        token_login(user.username, WRONG)
        admin_login(user.username, WRONG)
    json_logs.buffer.truncate(0)
    json_logs.buffer.seek(0)
    token_login(user.username, PASSWORD)
    admin_login(user.username, PASSWORD)
    assert [(r["logger"], r["message"]) for r in json_logs.records()] == [
        ("intelliflow.access", "POST /api/v1/auth/token/ 429"),
        ("intelliflow.access", "POST /admin/login/ 429"),
    ]


def test_the_line_names_only_the_parameter_that_tripped(user, limit, caplog):
    for n in range(limit):
        admin_login(f"nobody{n}", WRONG)
    (by_address,) = lockout_records(caplog)
    assert by_address.__dict__["login.locked_by"] == ["ip_address"]
    assert by_address.__dict__["login.endpoint"] == "admin"
    caplog.clear()
    for n in range(limit):
        token_login(user.username, WRONG, address=f"192.0.2.{n + 1}")
    (by_username,) = lockout_records(caplog)
    assert by_username.__dict__["login.locked_by"] == ["username"]
    assert by_username.__dict__["client.address"] == "192.0.2.5"


def test_the_password_appears_in_no_log_line_and_no_record(user, limit, caplog, json_logs):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="axes")  # even axes' own debug lines
    for _ in range(limit):
        admin_login(user.username, WRONG)
        token_login(user.username, WRONG)
        token_login(user.username, WRONG, format="multipart")
    token_login(user.username, PASSWORD, address=OTHER_CLIENT)
    assert lockout_records(caplog)
    assert any(r.name.startswith("axes") for r in caplog.records)  # axes did log
    for text in (caplog.text, json_logs.text, *(r.getMessage() for r in caplog.records)):
        assert WRONG not in text
        assert PASSWORD not in text
    for attempt in AccessAttempt.objects.all():
        stored = f"{attempt.get_data} {attempt.post_data} {attempt.username}"
        assert WRONG not in stored
        assert PASSWORD not in stored


def test_axes_logs_no_info_lines_in_production_logging(user):
    """axes' logger is pinned at WARNING: its per-request housekeeping lines stay out."""
    assert logging.getLogger("axes").getEffectiveLevel() == logging.WARNING
    assert logging.getLogger("axes.handlers.database").getEffectiveLevel() == logging.WARNING


def test_a_forced_login_is_not_counted_and_leaves_nothing(user):
    counters = Counters()
    client = Client()
    client.force_login(user)
    assert client.get("/admin/").status_code == 302  # not staff: to the login page
    assert counters.moved() == {}
    assert not AccessAttempt.objects.exists()
