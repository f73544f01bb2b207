"""Every labelled counter of ours exists at 0 before any traffic, so that rate() and increase()
on a fresh pod see 0 instead of nothing (and the first increment is not lost to them).

Checked in a fresh process (this one's counters have moved with the other tests), over every
counter family named intelliflow_* that the registry holds once Django is set up: a counter
added later, in any app, is checked too. One whose label values cannot be known in advance
would have to be named here, with the reason, as an exception.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from leads.models import ALLOWED_TRANSITIONS, LeadSource

ROOT = Path(__file__).resolve().parents[2]

# Our counter families with their samples, as a fresh process exposes them. The workers' CPU
# time is left out: a counter, but of seconds already spent, never 0 and not labelled.
DUMP_COUNTERS = """
import json
import django

django.setup()

from prometheus_client import REGISTRY

from observability.metrics import PROCESS_CPU_NAME

counters = {
    family.name: [
        [sample.labels, sample.value]
        for sample in family.samples
        if sample.name.endswith("_total")
    ]
    for family in REGISTRY.collect()
    if family.type == "counter"
    and family.name.startswith("intelliflow_")
    and family.name != PROCESS_CPU_NAME
}
print(json.dumps(counters))
"""


def fresh_counters(database_url: str) -> dict[str, list]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "DB_", "PROMETHEUS_MULTIPROC"))
    }
    env |= {
        "DJANGO_SETTINGS_MODULE": "intelliflow.settings",
        "DJANGO_SECRET_KEY": "test-only",
        "DATABASE_URL": database_url,  # read, never connected to
    }
    result = subprocess.run(
        [sys.executable, "-c", DUMP_COUNTERS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def label_sets(samples) -> list[dict]:
    return [labels for labels, _ in samples]


@pytest.fixture(scope="module")
def counters():
    return fresh_counters("postgres://u:p@db.example:5432/crm")  # pooled, as in production


def test_every_counter_has_its_series_at_zero_before_any_traffic(counters):
    assert counters, "no counter found"
    for name, samples in counters.items():
        assert samples, f"{name}: no series before the first increment"
        assert {value for _, value in samples} == {0.0}, name


def test_business_counters_cover_every_label_value(counters):
    created = label_sets(counters["intelliflow_leads_created"])
    assert sorted(labels["source"] for labels in created) == sorted(LeadSource.values)
    transitions = label_sets(counters["intelliflow_lead_status_transitions"])
    expected = [
        {"from_status": str(from_status), "to_status": str(to_status)}
        for from_status, to_statuses in ALLOWED_TRANSITIONS.items()
        for to_status in to_statuses
    ]
    assert sorted(transitions, key=str) == sorted(expected, key=str)
    rows = label_sets(counters["intelliflow_lead_import_rows"])
    assert sorted(labels["outcome"] for labels in rows) == ["created", "rejected"]


def test_pool_counters_cover_every_pooled_database_and_kind(counters):
    assert label_sets(counters["intelliflow_db_pool_requests"]) == [{"alias": "default"}]
    assert label_sets(counters["intelliflow_db_pool_waits"]) == [{"alias": "default"}]
    errors = label_sets(counters["intelliflow_db_pool_errors"])
    assert sorted(errors, key=str) == [
        {"alias": "default", "kind": "connection"},
        {"alias": "default", "kind": "request"},
    ]


def test_without_a_pool_there_is_no_pool_series():
    # SQLite (or DB_POOL_ENABLED=false): a pool counter at 0 would claim a pool that is not there.
    counters = fresh_counters("sqlite:///unused.sqlite3")
    assert counters["intelliflow_db_pool_requests"] == []
    assert counters["intelliflow_db_pool_errors"] == []
