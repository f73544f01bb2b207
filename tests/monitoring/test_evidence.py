"""Every key the stack's configs set has its upstream evidence in monitoring/README.md.

A config key that the pinned release does not know makes the collector (and Loki, Tempo,
Alertmanager) refuse to start. None of those binaries runs here, so each key we write must
name the upstream file, at the pinned tag, that defines it: a new key lands with its evidence.
"""

import re

import pytest

from tests.monitoring.conftest import MONITORING, load_yaml

README = MONITORING / "README.md"

# The files whose keys need evidence, relative to monitoring/.
CONFIGS = (
    "otel-collector.yaml",
    "loki.yaml",
    "tempo.yaml",
    "alertmanager.yml",
    "prometheus.yml",
    "prometheus-remote-write.example.yml",
    "grafana/provisioning/datasources/datasources.yaml",
    "grafana/provisioning/dashboards/dashboards.yaml",
)

ROW = re.compile(r"^\|\s*`(?P<key>[^`]+)`\s*\|(?P<rest>.*)\|\s*$")
HEADING = re.compile(r"^#{2,4}\s+`(?P<file>[^`]+)`\s*$")
# repository (owner/name), tag, path inside the repository: `owner/name@tag:path`
EVIDENCE = re.compile(r"`(?P<repo>[\w.-]+/[\w.-]+)@(?P<tag>[\w.+-]+):(?P<path>[^`]+)`")


def key_paths(node, prefix: str = "", collector: bool = False) -> set[str]:
    """Dotted paths of every mapping key. A list of mappings adds `[]`, or `[<type>]` where
    the items say their type (the collector's log operators); the collector's component and
    pipeline ids `type/name` count as their type."""
    paths: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            segment = str(key).split("/", 1)[0] if collector else str(key)
            path = f"{prefix}.{segment}" if prefix else segment
            paths.add(path)
            paths |= key_paths(value, path, collector)
    elif isinstance(node, list):
        for item in node:
            if isinstance(item, dict):
                kind = item.get("type") if isinstance(item.get("type"), str) else ""
                paths |= key_paths(item, f"{prefix}[{kind if collector else ''}]", collector)
    return paths


def evidence_table() -> dict[str, dict[str, str]]:
    """{config file: {key path: evidence cell}} from monitoring/README.md."""
    tables: dict[str, dict[str, str]] = {}
    current = None
    for line in README.read_text().splitlines():
        heading = HEADING.match(line)
        if heading:
            current = tables.setdefault(heading.group("file"), {})
            continue
        if line.startswith("#"):
            current = None
            continue
        row = ROW.match(line)
        if row and current is not None:
            current[row.group("key")] = row.group("rest")
    return tables


def test_the_readme_has_an_evidence_table_for_every_config():
    tables = evidence_table()
    for config in CONFIGS:
        assert (MONITORING / config).exists(), config
        assert config in tables, f"monitoring/README.md has no table headed `{config}`"


@pytest.mark.parametrize("config", CONFIGS)
def test_every_key_has_upstream_evidence(config):
    keys = key_paths(load_yaml(MONITORING / config), collector=config == "otel-collector.yaml")
    table = evidence_table().get(config, {})
    missing = sorted(keys - set(table))
    assert not missing, f"{config}: keys without evidence in monitoring/README.md: {missing}"
    for key in keys:
        assert EVIDENCE.search(table[key]), (config, key, table[key])


@pytest.mark.parametrize("config", CONFIGS)
def test_no_evidence_row_for_a_key_we_do_not_set(config):
    keys = key_paths(load_yaml(MONITORING / config), collector=config == "otel-collector.yaml")
    stale = sorted(set(evidence_table().get(config, {})) - keys)
    assert not stale, f"{config}: rows for keys the file does not set: {stale}"


def test_key_paths_normalise_component_ids_and_typed_lists():
    config = {
        "receivers": {"filelog/app": {"operators": [{"type": "move", "from": "a"}]}},
        "service": {"pipelines": {"metrics/spans": {"receivers": ["x"]}}},
    }
    assert key_paths(config, collector=True) == {
        "receivers",
        "receivers.filelog",
        "receivers.filelog.operators",
        "receivers.filelog.operators[move].type",
        "receivers.filelog.operators[move].from",
        "service",
        "service.pipelines",
        "service.pipelines.metrics",
        "service.pipelines.metrics.receivers",
    }
    assert key_paths({"a": [{"b": 1}], "c/d": 2}) == {"a", "a[].b", "c/d"}


def test_evidence_cells_name_repository_tag_and_path():
    match = EVIDENCE.search("`prometheus/alertmanager@v0.28.1:config/config.go`")
    assert match.group("repo", "tag", "path") == (
        "prometheus/alertmanager",
        "v0.28.1",
        "config/config.go",
    )


def test_evidence_tags_are_the_pinned_releases():
    """Each row cites the tag the stack pins, so the table moves with every upgrade."""
    pins = {
        match.group("repo"): match.group("tag")
        for match in EVIDENCE.finditer(_section("Pinned releases"))
    }
    assert pins, "monitoring/README.md has no `Pinned releases` section with owner/name@tag"
    for config, rows in evidence_table().items():
        for key, cell in rows.items():
            for match in EVIDENCE.finditer(cell):
                repo, tag = match.group("repo", "tag")
                if repo in pins:
                    assert tag == pins[repo], (config, key, repo, tag, pins[repo])


def _section(title: str) -> str:
    text = README.read_text()
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]
