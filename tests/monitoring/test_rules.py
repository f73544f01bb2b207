"""Prometheus configuration and alert rules, checked and unit-tested by the real promtool."""

import re
import subprocess

import pytest
import yaml

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


# Keys of the Prometheus 3 config that Debian's promtool 2.42 does not know (it parses
# strictly, so it would reject the whole file). Each is asserted present, then removed from
# the copy promtool checks; its value is Prometheus 3's to parse (monitoring/README.md).
PROMETHEUS_3_ONLY = {
    ("storage", "tsdb", "retention"): {"time": "30d", "size": "10GB"},
}


def for_promtool_2(config: dict) -> dict:
    """The config minus the keys promtool 2.42 cannot parse, dropping emptied parents."""
    for path, expected in PROMETHEUS_3_ONLY.items():
        parents = [config]
        for key in path[:-1]:
            parents.append(parents[-1][key])
        assert parents[-1].pop(path[-1]) == expected, path
        for depth in range(len(path) - 1, 0, -1):
            if not parents[depth]:
                del parents[depth - 1][path[depth - 1]]
    return config


def check_config(promtool: str, path) -> None:
    result = run(promtool, "check", "config", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_prometheus_config_is_valid(promtool, tmp_path):
    # The same file with the container paths pointed at the repository and a token file.
    token = tmp_path / "metrics_token"
    token.write_text("token")
    config = (MONITORING / "prometheus.yml").read_text()
    config = config.replace("/etc/prometheus/alerts/", f"{MONITORING / 'alerts'}/")
    config = config.replace("/run/secrets/metrics_token", str(token))
    checked = for_promtool_2(yaml.safe_load(config))
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(checked))
    check_config(promtool, tmp_path / "prometheus.yml")


def test_promtool_2_rejects_exactly_the_keys_it_is_spared(promtool, tmp_path):
    """If a newer promtool accepts them, PROMETHEUS_3_ONLY can go; if 2.42 still rejects the
    stripped copy, something else is new (the test above fails)."""
    token = tmp_path / "metrics_token"
    token.write_text("token")
    config = (MONITORING / "prometheus.yml").read_text()
    config = config.replace("/etc/prometheus/alerts/", f"{MONITORING / 'alerts'}/")
    config = config.replace("/run/secrets/metrics_token", str(token))
    (tmp_path / "prometheus.yml").write_text(config)
    result = run(promtool, "check", "config", str(tmp_path / "prometheus.yml"))
    version = run(promtool, "--version").stdout
    if re.search(r"version 2\.", version):
        assert result.returncode != 0
        assert "field retention not found" in result.stdout + result.stderr
    else:
        assert result.returncode == 0, result.stdout + result.stderr


def test_alerts_go_to_the_compose_alertmanager():
    config = load_yaml(MONITORING / "prometheus.yml")
    targets = [
        target
        for manager in config["alerting"]["alertmanagers"]
        for static in manager["static_configs"]
        for target in static["targets"]
    ]
    assert targets == ["alertmanager:9093"]


def test_remote_write_example_is_valid(promtool, tmp_path):
    # promtool 2.42 does not open remote_write's password_file; a real one is written anyway,
    # so a promtool that does still passes.
    password = tmp_path / "remote_write_password"
    password.write_text("secret")
    config = (MONITORING / "prometheus-remote-write.example.yml").read_text()
    assert "/run/secrets/remote_write_password" in config
    config = config.replace("/run/secrets/remote_write_password", str(password))
    (tmp_path / "prometheus.yml").write_text(config)
    check_config(promtool, tmp_path / "prometheus.yml")


def test_remote_write_example_keeps_only_intelliflow_series():
    (remote,) = load_yaml(MONITORING / "prometheus-remote-write.example.yml")["remote_write"]
    assert remote["basic_auth"]["password_file"].startswith("/run/secrets/")
    (keep,) = remote["write_relabel_configs"]
    assert (keep["action"], keep["source_labels"]) == ("keep", ["__name__"])
    pattern = re.compile(f"^(?:{keep['regex']})$")  # Prometheus anchors relabel regexes
    kept = (
        "intelliflow_leads_created_total",
        "intelliflow:http_error_ratio:rate5m",
        "traces_span_metrics_calls_total",
        "django_http_requests_total_by_method_total",
    )
    dropped = (
        "otelcol_exporter_sent_spans_total",
        "loki_ingester_chunks_created_total",
        "prometheus_tsdb_head_series",
        "up",
    )
    for name in kept:
        assert pattern.match(name), name
    for name in dropped:
        assert not pattern.match(name), name


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
