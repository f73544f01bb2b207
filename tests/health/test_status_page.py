"""The human status page (/status/): one readable row per check, the same data as /health/check,
and nothing inline for the Content-Security-Policy to block."""

import re
from collections import Counter
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
from django.contrib.staticfiles import finders
from django.db import connections
from health_check import Cache

from health import checks, draining, presentation
from health.checks import Observation
from health.reporting import FAIL, PASS, WARN, Outcome

pytestmark = pytest.mark.django_db

RAW_PYTHON = re.compile(r"\b(None|True|False)\b")
NUMBER = r"\d[\d,]*(\.\d+)?"


class StatusTable(HTMLParser):
    """The rows of the page's table body: each cell's text, and each row's readings (the
    `<dt>`/`<dd>` pairs of its Observed cell)."""

    def __init__(self):
        super().__init__()
        self.header_scopes: list[str | None] = []
        self.rows: list[dict] = []
        self._in_body = False
        self._cell: list[str] | None = None
        self._term: list[str] | None = None
        self._definition: list[str] | None = None
        self._label = ""

    def handle_starttag(self, tag, attrs):
        if tag == "tbody":
            self._in_body = True
        elif tag == "th" and not self._in_body:
            self.header_scopes.append(dict(attrs).get("scope"))
        elif tag == "tr" and self._in_body:
            self.rows.append({"cells": [], "scopes": [], "readings": []})
        elif tag in ("th", "td") and self._in_body:
            self._cell = []
            self.rows[-1]["scopes"].append(dict(attrs).get("scope") if tag == "th" else None)
        elif tag == "dt" and self._cell is not None:
            self._term = []
        elif tag == "dd" and self._cell is not None:
            self._definition = []

    def handle_endtag(self, tag):
        if tag == "tbody":
            self._in_body = False
        elif tag in ("th", "td") and self._cell is not None:
            self.rows[-1]["cells"].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "dt" and self._term is not None:
            self._label = "".join(self._term).strip()
            self._term = None
        elif tag == "dd" and self._definition is not None:
            value = "".join(self._definition).strip()
            self.rows[-1]["readings"].append((self._label, value))
            self._definition = None

    def handle_data(self, data):
        for part in (self._cell, self._term, self._definition):
            if part is not None:
                part.append(data)


def table(response) -> StatusTable:
    parser = StatusTable()
    parser.feed(response.content.decode())
    return parser


def by_title(parsed: StatusTable) -> dict[str, dict]:
    return {row["cells"][0]: row for row in parsed.rows}


def reading(row: dict, label: str) -> str:
    return dict(row["readings"])[label]


def test_one_row_per_check_each_with_its_own_name(client):
    response = client.get("/status/")
    assert response.status_code == 200
    titles = [row["cells"][0] for row in table(response).rows]
    assert len(titles) == len(set(titles)), titles
    assert titles == [presentation.check_title(check) for check in checks.all_checks()]
    assert {
        "Shutdown drain",
        "Database connection",
        "Migrations applied",
        "Database connection pool",
        "Worker process",
    } <= set(titles)


def test_the_rows_show_what_health_check_reports(client):
    page = table(client.get("/status/"))
    body = client.get("/health/check").json()
    entries = [entry for key_entries in body["checks"].values() for entry in key_entries]
    # One reading per health+json entry, with the status and output of its check.
    assert sum(len(row["readings"]) for row in page.rows) == len(entries)
    page_statuses = Counter()
    page_outputs = set()
    for row in page.rows:
        page_statuses[row["cells"][1]] += len(row["readings"])
        if row["cells"][4]:
            page_outputs.add(row["cells"][4])
    assert page_statuses == Counter(entry["status"] for entry in entries)
    assert page_outputs == {entry["output"] for entry in entries if "output" in entry}


def test_cells_hold_words_not_python_values(client, monkeypatch):
    monkeypatch.setattr(draining, "is_draining", lambda: True)
    response = client.get("/status/")
    assert response.status_code == 503
    rows = table(response).rows
    for row in rows:
        for text in [*row["cells"], *(f"{label} {value}" for label, value in row["readings"])]:
            assert not RAW_PYTHON.search(text), row
    assert reading(by_title(table(response))["Shutdown drain"], "State") == "draining"


def test_values_carry_units(client):
    rows = by_title(table(client.get("/status/")))
    process = rows["Worker process"]
    assert re.fullmatch(rf"{NUMBER}\sMiB", reading(process, "Resident memory"))
    assert re.fullmatch(rf"{NUMBER}\ss|\d+\smin \d+\ss", reading(process, "Uptime"))
    assert re.fullmatch(r"\d+", reading(process, "Threads"))
    assert re.fullmatch(rf"{NUMBER}\sms", reading(rows["Database connection"], "Response time"))
    assert reading(rows["Migrations applied"], "Pending migrations") == "none"
    for row in rows.values():
        assert re.fullmatch(rf"{NUMBER}\sms", row["cells"][3])


def test_pool_utilization_in_percent_or_not_pooled(client):
    in_use = reading(
        by_title(table(client.get("/status/")))["Database connection pool"], "Connections in use"
    )
    if connections["default"].settings_dict["OPTIONS"].get("pool"):
        assert re.fullmatch(rf"{NUMBER}\s%", in_use)
    else:
        assert in_use.startswith("not pooled")


def test_no_inline_style_or_script(client):
    content = client.get("/status/").content.decode()
    assert not re.search(r"<style|<script|\sstyle=|\son[a-z]+=|javascript:", content, re.I)
    assert '<link rel="stylesheet" href="/static/health/status.css">' in content
    assert 'rel="icon" href="/static/intelliflow/favicon.svg" type="image/svg+xml"' in content
    assert finders.find("health/status.css") is not None
    assert '<meta http-equiv="refresh" content="30">' in content
    assert '<a href="/health/check">/health/check</a>' in content


def test_the_table_is_accessible(client):
    parsed = table(client.get("/status/"))
    assert parsed.header_scopes == ["col"] * 5
    for row in parsed.rows:
        assert row["scopes"] == ["row", None, None, None, None]


def test_the_release_is_shown_only_when_it_differs_from_the_version(client, settings):
    assert f"Version {settings.VERSION}," in client.get("/status/").content.decode()
    settings.RELEASE_ID = "abc1234"
    assert "(release abc1234)" in client.get("/status/").content.decode()


# --- The wording on its own, for states a live run does not reach -----------------------------


def outcome(check, observations: dict, status: str = PASS, output: str = "") -> Outcome:
    observed = {name: Observation(*value) for name, value in observations.items()}
    return Outcome(check, status, output, observed, datetime.now(UTC), 1.234)


def rendered(rows) -> list[tuple[str, str, list[tuple[str, str]], str, str]]:
    return [
        (row.title, row.status, [(r.label, r.value) for r in row.readings], row.took, row.output)
        for row in rows
    ]


def test_wording_of_each_measurement():
    rows = presentation.status_rows(
        [
            outcome(checks.DrainingCheck(), {"draining": (False,)}),
            outcome(checks.DatabaseCheck(), {"responseTime": (215.4, "ms")}, WARN, "slow"),
            outcome(checks.MigrationsCheck(), {"pendingMigrations": (3,)}, FAIL, "3 pending"),
            outcome(
                checks.DatabasePoolCheck(), {"utilization": (37.5, "%"), "waiting": (0,)}, WARN
            ),
            outcome(
                checks.ProcessCheck(),
                {
                    "uptime": (3725.0, "s"),
                    "residentMemory": (89718784, "bytes"),
                    "threads": (12,),
                },
            ),
        ]
    )
    nbsp = presentation.NBSP
    assert rendered(rows) == [
        ("Shutdown drain", PASS, [("State", "serving")], f"1.2{nbsp}ms", ""),
        ("Database connection", WARN, [("Response time", f"215{nbsp}ms")], f"1.2{nbsp}ms", "slow"),
        ("Migrations applied", FAIL, [("Pending migrations", "3")], f"1.2{nbsp}ms", "3 pending"),
        (
            "Database connection pool",
            WARN,
            [("Connections in use", f"37.5{nbsp}%"), ("Requests waiting", "0")],
            f"1.2{nbsp}ms",
            "",
        ),
        (
            "Worker process",
            PASS,
            [
                ("Uptime", f"1{nbsp}h 2{nbsp}min"),
                ("Resident memory", f"85.6{nbsp}MiB"),
                ("Threads", "12"),
            ],
            f"1.2{nbsp}ms",
            "",
        ),
    ]


def test_draining_and_no_pool_in_words():
    (drain, pool) = presentation.status_rows(
        [
            outcome(checks.DrainingCheck(), {"draining": (True,)}, FAIL, "draining after SIGTERM"),
            outcome(checks.DatabasePoolCheck(), {"utilization": (None,)}),
        ]
    )
    assert drain.readings == (presentation.Reading("State", "draining"),)
    assert pool.readings[0].value.startswith("not pooled")


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (None, "", "not measured"),
        (True, "", "yes"),
        (False, "", "no"),
        (0.004, "ms", "0 ms"),
        (0.456, "ms", "0.46 ms"),
        (12.345, "ms", "12.3 ms"),
        (1234.5, "ms", "1,234 ms"),
        (4.25, "s", "4.2 s"),
        (42.3, "s", "42 s"),
        (725.0, "s", "12 min 5 s"),
        (2 * 86400 + 4 * 3600 + 59, "s", "2 d 4 h"),
        (512 * 1024 * 1024, "bytes", "512 MiB"),
        (100.0, "%", "100 %"),
        (1234567, "", "1,234,567"),
        (0.123456, "", "0.12"),
        ("text", "", "text"),
    ],
)
def test_format_value(value, unit, expected):
    assert presentation.format_value(value, unit).replace(presentation.NBSP, " ") == expected


def test_titles_stay_unique_when_checks_repeat():
    class CustomThingCheck(checks.ObservingCheck):
        component = "thing"

        def run(self):
            pass

    rows = presentation.status_rows(
        [
            outcome(checks.DatabaseCheck(), {"responseTime": (1.0, "ms")}),
            outcome(checks.DatabaseCheck(), {"responseTime": (1.0, "ms")}),
            outcome(checks.DatabaseCheck(alias="replica"), {"responseTime": (1.0, "ms")}),
            outcome(CustomThingCheck(), {"someMeasurement": (1.5, "")}),
            outcome(Cache(), {}),
        ]
    )
    assert [row.title for row in rows] == [
        "Database connection",
        "Database connection 2",
        "Database connection (replica)",
        "Custom Thing Check",
        "Shared cache",
    ]
    assert rows[3].readings == (presentation.Reading("Some measurement", "1.5"),)
    # A check that observed nothing reports how long it took, as /health/check does.
    assert rows[4].readings == (presentation.Reading("Response time", f"1.2{presentation.NBSP}ms"),)


def test_every_check_of_ours_has_a_title_of_its_own():
    ours = [check for check in checks.all_checks() if isinstance(check, checks.ObservingCheck)]
    titles = [check.title for check in ours]
    assert len(ours) >= 5
    assert len(titles) == len(set(titles))
