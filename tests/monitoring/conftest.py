"""Shared paths and loaders for the monitoring stack's tests."""

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "monitoring"
RULE_FILES = sorted((MONITORING / "alerts").glob("*.rules.yml"))
RULE_TESTS = sorted((MONITORING / "alerts" / "tests").glob("*.test.yml"))
DASHBOARDS = sorted((MONITORING / "grafana" / "dashboards").glob("*.json"))


def load_yaml(path: Path):
    return yaml.safe_load(path.read_text())


def load_json(path: Path):
    return json.loads(path.read_text())


def alert_rules() -> list[dict]:
    return [
        rule
        for path in RULE_FILES
        for group in load_yaml(path)["groups"]
        for rule in group["rules"]
        if "alert" in rule
    ]


def all_rules() -> list[dict]:
    return [
        rule
        for path in RULE_FILES
        for group in load_yaml(path)["groups"]
        for rule in group["rules"]
    ]


def prometheus_binary(name: str) -> str:
    """Debian's prometheus package: required in CI, skipped (loudly) on a bare laptop."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is missing in CI (.ci/run installs Debian's prometheus)")
        pytest.skip(f"{name} not installed (apt-get install prometheus)")
    return path


@pytest.fixture(scope="session")
def promtool() -> str:
    return prometheus_binary("promtool")
