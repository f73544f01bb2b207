"""Grafana: provisioned datasources wired to each other, dashboards that parse and query."""

import pytest
from grafana_foundation_sdk.models.dashboard import Dashboard

from tests.monitoring.conftest import DASHBOARDS, MONITORING, load_json, load_yaml

DATASOURCES = load_yaml(MONITORING / "grafana/provisioning/datasources/datasources.yaml")[
    "datasources"
]
UIDS = {source["uid"]: source for source in DATASOURCES}


def panels(board: dict) -> list[dict]:
    found = []
    for panel in board["panels"]:
        found.append(panel)
        found += panel.get("panels", [])
    return found


def test_committed_dashboards_are_what_the_builder_writes():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "build_dashboards", MONITORING / "grafana/build_dashboards.py"
    )
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    assert {path.name for path in DASHBOARDS} == set(builder.DASHBOARDS)
    for path in DASHBOARDS:
        assert path.read_text() == builder.render(builder.DASHBOARDS[path.name]), path.name


def test_the_three_dashboards_exist():
    titles = {load_json(path)["title"] for path in DASHBOARDS}
    assert titles == {"IntelliFlow Overview", "API Performance", "Error Analysis"}


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboard_parses_with_grafanas_own_model(path):
    board = Dashboard.from_json(load_json(path))
    assert board.title
    assert board.uid == load_json(path)["uid"]


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_every_panel_queries_a_provisioned_datasource(path):
    for panel in panels(load_json(path)):
        assert panel["datasource"]["uid"] in UIDS, panel["title"]
        assert panel["targets"], f"{panel['title']}: no query"
        for target in panel["targets"]:
            assert target["datasource"]["uid"] in UIDS
            assert target["expr"].strip(), f"{panel['title']}: empty query"
            assert UIDS[target["datasource"]["uid"]]["type"] == target["datasource"]["type"]


def test_overview_covers_the_seed_kpis():
    overview = next(p for p in DASHBOARDS if p.name == "intelliflow-overview.json")
    titles = " ".join(p["title"] for p in panels(load_json(overview)))
    for needed in ("Request rate", "Latency", "Error rate", "Database", "pool", "CPU", "memory",
                   "Readiness", "Leads created"):  # fmt: skip
        assert needed.lower() in titles.lower(), needed


def test_latency_panel_shows_exemplars():
    api = load_json(next(p for p in DASHBOARDS if p.name == "api-performance.json"))
    assert any(t.get("exemplar") for panel in panels(api) for t in panel["targets"])


def test_signals_are_correlated_in_the_datasources():
    prometheus, loki, tempo = UIDS["prometheus"], UIDS["loki"], UIDS["tempo"]
    assert prometheus["jsonData"]["exemplarTraceIdDestinations"][0]["datasourceUid"] == "tempo"
    derived = loki["jsonData"]["derivedFields"][0]
    assert (derived["datasourceUid"], derived["matcherRegex"]) == ("tempo", "trace_id")
    assert tempo["jsonData"]["tracesToLogsV2"]["datasourceUid"] == "loki"
    assert tempo["jsonData"]["tracesToMetrics"]["datasourceUid"] == "prometheus"
    assert tempo["jsonData"]["serviceMap"]["datasourceUid"] == "prometheus"
