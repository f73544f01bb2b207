"""Alertmanager's configuration, checked by the real amtool: it parses, and every severity the
alert rules use reaches its own receiver.

Debian's amtool is 0.25; the stack runs a newer Alertmanager. The one key 0.25 does not know,
webhook `url_file` (Alertmanager 0.26+), is asserted present and then swapped for a
placeholder `url` in the copy amtool 0.25 checks; a newer amtool checks the file as it is.
"""

import os
import re
import shutil
import subprocess

import pytest
import yaml

from tests.monitoring.conftest import MONITORING, ROOT, alert_rules, load_yaml

CONFIG = MONITORING / "alertmanager.yml"
URL_FILE = "/run/secrets/alertmanager_webhook_url"
RECEIVERS = {"critical": "intelliflow-critical", "warning": "intelliflow-warning"}


@pytest.fixture(scope="session")
def amtool() -> str:
    path = shutil.which("amtool")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("amtool is missing in CI (.ci/run installs prometheus-alertmanager)")
        pytest.skip("amtool not installed (apt-get install prometheus-alertmanager)")
    return path


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)


def amtool_version(amtool: str) -> tuple[int, int]:
    output = run(amtool, "--version")
    match = re.search(r"version (\d+)\.(\d+)", output.stdout + output.stderr)
    assert match, output.stdout + output.stderr
    return int(match.group(1)), int(match.group(2))


@pytest.fixture
def checked_config(amtool, tmp_path):
    """The file amtool can check: ours, or for amtool < 0.26 ours with url_file → url."""
    config = load_yaml(CONFIG)
    if amtool_version(amtool) >= (0, 26):
        return CONFIG
    for receiver in config["receivers"]:
        for webhook in receiver.get("webhook_configs", []):
            assert webhook.pop("url_file") == URL_FILE, receiver["name"]
            webhook["url"] = "http://127.0.0.1:9/placeholder"
    path = tmp_path / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_config_is_valid(amtool, checked_config):
    result = run(amtool, "check-config", str(checked_config))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_receiver_reads_its_url_from_the_compose_secret():
    compose = load_yaml(ROOT / "docker-compose.yml")
    service = compose["services"]["alertmanager"]
    assert "alertmanager_webhook_url" in service["secrets"]
    assert "alertmanager_webhook_url" in compose["secrets"]
    for receiver in load_yaml(CONFIG)["receivers"]:
        assert receiver["webhook_configs"], receiver["name"]
        for webhook in receiver["webhook_configs"]:
            assert webhook["url_file"] == URL_FILE
            assert "url" not in webhook


def test_the_rules_use_only_routed_severities():
    assert {rule["labels"]["severity"] for rule in alert_rules()} <= set(RECEIVERS)


def route_test(amtool, config, receiver: str, *labels: str):
    """`amtool config routes test`: does an alert with these labels reach `receiver`?"""
    return run(
        amtool,
        "config",
        "routes",
        "test",
        f"--config.file={config}",
        f"--verify.receivers={receiver}",
        *labels,
    )


@pytest.mark.parametrize("severity", sorted(RECEIVERS))
def test_each_severity_reaches_its_receiver(amtool, checked_config, severity):
    result = route_test(
        amtool,
        checked_config,
        RECEIVERS[severity],
        f"severity={severity}",
        "alertname=IntelliFlowTest",
        "job=intelliflow",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.split() == [RECEIVERS[severity]]


def test_an_alert_without_a_known_severity_still_goes_somewhere(amtool, checked_config):
    result = route_test(amtool, checked_config, "intelliflow-default", "alertname=Other")
    assert result.returncode == 0, result.stdout + result.stderr


def test_grouping_and_repeats_are_set():
    route = load_yaml(CONFIG)["route"]
    assert route["group_by"] == ["alertname", "job"]
    for key in ("group_wait", "group_interval", "repeat_interval"):
        assert route[key], key
    critical = next(r for r in route["routes"] if r["receiver"] == RECEIVERS["critical"])
    assert critical["repeat_interval"] == "1h"


def test_critical_inhibits_warning():
    rules = load_yaml(CONFIG)["inhibit_rules"]
    assert {
        "source_matchers": ['severity="critical"'],
        "target_matchers": ['severity="warning"'],
        "equal": ["alertname", "job"],
    } in rules
    names = {rule["alert"] for rule in alert_rules()}
    for rule in rules:
        for matcher in rule["source_matchers"] + rule["target_matchers"]:
            if matcher.startswith("alertname="):
                value = matcher.split('"')[1]
                assert {name for name in names if re.fullmatch(value, name)}, matcher
