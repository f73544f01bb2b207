"""Prometheus configuration and alert rules, checked and unit-tested by the real promtool."""

import subprocess

import pytest

from tests.monitoring.conftest import (
    MONITORING,
    ROOT,
    RULE_FILES,
    RULE_TESTS,
    alert_rules,
    load_yaml,
)


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)


def test_prometheus_config_is_valid(promtool, tmp_path):
    # The same file with the container paths pointed at the repository and a token file.
    token = tmp_path / "metrics_token"
    token.write_text("token")
    config = (MONITORING / "prometheus.yml").read_text()
    config = config.replace("/etc/prometheus/alerts/", f"{MONITORING / 'alerts'}/")
    config = config.replace("/run/secrets/metrics_token", str(token))
    (tmp_path / "prometheus.yml").write_text(config)
    result = run(promtool, "check", "config", str(tmp_path / "prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@pytest.mark.parametrize("rule_file", RULE_FILES, ids=lambda p: p.name)
def test_rule_files_are_valid(promtool, rule_file):
    result = run(promtool, "check", "rules", str(rule_file))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("rule_test", RULE_TESTS, ids=lambda p: p.name)
def test_rule_unit_tests_pass(promtool, rule_test):
    result = run(promtool, "test", "rules", str(rule_test))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_seed_alerts_and_slo_burn_alerts_exist():
    names = {rule["alert"] for rule in alert_rules()}
    assert {
        "IntelliFlowHighErrorRate",
        "IntelliFlowHighLatencyCritical",
        "IntelliFlowDatabaseDown",
        "IntelliFlowHighMemoryUsage",
        "IntelliFlowHighLatencyWarning",
        "IntelliFlowDatabasePoolSaturation",
        "IntelliFlowDiskSpaceLow",
        "IntelliFlowErrorBudgetBurnFast",
        "IntelliFlowErrorBudgetBurnMedium",
        "IntelliFlowErrorBudgetBurnSlow",
        "IntelliFlowErrorBudgetBurnChronic",
    } <= names


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda r: r["alert"])
def test_every_alert_is_complete_and_has_a_runbook(rule):
    assert rule.get("for"), "no for:"
    assert rule["labels"]["severity"] in {"critical", "warning"}
    annotations = rule["annotations"]
    assert annotations["summary"]
    assert annotations["description"]
    assert (ROOT / annotations["runbook_url"]).is_file(), annotations["runbook_url"]


def test_every_alert_has_a_firing_and_a_quiet_unit_test():
    cases = [
        test
        for path in RULE_TESTS
        for case in load_yaml(path)["tests"]
        for test in case.get("alert_rule_test", [])
    ]
    for rule in alert_rules():
        mine = [case for case in cases if case["alertname"] == rule["alert"]]
        assert any(case["exp_alerts"] for case in mine), f"{rule['alert']}: none fires it"
        assert any(not case["exp_alerts"] for case in mine), f"{rule['alert']}: none quiet"


def test_slis_leave_out_probes_and_metrics():
    for rule in load_yaml(RULE_FILES[0])["groups"][0]["rules"]:
        if "django_http" in rule["expr"]:
            assert 'view!~"health/.+|metrics/?"' in rule["expr"], rule["record"]
