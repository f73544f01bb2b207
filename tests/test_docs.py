"""The README stays short, every docs/ page is reachable from it, links resolve, and the two
reference tables (environment variables, metric families) say what the code does.

No database and no server: the tests read Markdown and parse Python sources.
"""

import ast
import re
from collections import Counter
from pathlib import Path

from tests.project import project_packages

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
CONFIGURATION = DOCS / "configuration.md"
OBSERVABILITY = DOCS / "observability.md"
README_MAX_BYTES = 12_288

# The application's code: what reads the environment and registers metrics. Tests and
# benchmarks read variables of their own (FUZZ_SEED, SOAK_SECONDS, ...) that configure no
# deployment, so they are not here (tests/project.py finds the packages in the tree).
APP_PACKAGES = project_packages()
APP_MODULES = ("gunicorn.conf.py", "manage.py")


def app_sources() -> list[Path]:
    files = [ROOT / name for name in APP_MODULES]
    for package in APP_PACKAGES:
        files += [p for p in (ROOT / package).rglob("*.py") if "__pycache__" not in p.parts]
    return sorted(files)


# --- Markdown ---------------------------------------------------------------------------------

FENCED_BLOCK = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]*`")
INLINE_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
TABLE_PIPE = re.compile(r"(?<!\\)\|")


def prose(text: str) -> str:
    """The Markdown without fenced code blocks (their brackets are not links)."""
    return FENCED_BLOCK.sub("", text)


def link_targets(path: Path) -> list[str]:
    """Targets of inline and reference links and images, outside code."""
    text = CODE_SPAN.sub("", prose(path.read_text(encoding="utf-8")))
    return INLINE_LINK.findall(text) + REFERENCE_LINK.findall(text)


def github_anchor(heading: str) -> str:
    """The id GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: Counter[str] = Counter()
    found = set()
    for heading in HEADING.findall(prose(path.read_text(encoding="utf-8"))):
        anchor = github_anchor(heading)
        found.add(f"{anchor}-{seen[anchor]}" if seen[anchor] else anchor)
        seen[anchor] += 1
    return found


def markdown_files() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def table_first_column(path: Path, header: str) -> list[str]:
    """First cells of the body rows of the table whose first header cell is `header`."""
    tables, table = [], []
    for line in prose(path.read_text(encoding="utf-8")).splitlines():
        if line.lstrip().startswith("|"):
            # Cells split on unescaped pipes: `{state="in_use"\|"idle"}` stays one cell.
            table.append([cell.strip() for cell in TABLE_PIPE.split(line.strip().strip("|"))])
        elif table:
            tables.append(table)
            table = []
    tables += [table] if table else []
    for header_row, _delimiter, *rows in (table for table in tables if len(table) > 2):
        if header_row[0] == header:
            return [row[0] for row in rows]
    raise AssertionError(f"{path.relative_to(ROOT)} has no table headed `{header}`")


# --- README and links -------------------------------------------------------------------------


def test_readme_is_short():
    size = len(README.read_bytes())
    assert size <= README_MAX_BYTES, (
        f"README.md is {size} bytes, over {README_MAX_BYTES}: move reference material to docs/"
    )


def test_every_docs_page_is_linked_exactly_once_from_the_readme():
    linked = Counter(
        (README.parent / target.split("#")[0]).resolve()
        for target in link_targets(README)
        if not URL_SCHEME.match(target) and target.split("#")[0]
    )
    counts = {page.name: linked[page.resolve()] for page in DOCS.glob("*.md")}
    assert counts, "docs/ has no pages"
    wrong = {name: count for name, count in counts.items() if count != 1}
    assert not wrong, f"docs pages not linked exactly once from README.md (page: links): {wrong}"


def test_every_relative_link_resolves_inside_the_repository():
    broken = []
    for page in markdown_files():
        for target in link_targets(page):
            if URL_SCHEME.match(target):
                continue
            where = f"{page.relative_to(ROOT)}: {target}"
            path_part, _, anchor = target.partition("#")
            if path_part.startswith("/"):
                broken.append(f"{where} (absolute path)")
                continue
            resolved = (page.parent / path_part).resolve() if path_part else page
            if not resolved.is_relative_to(ROOT):
                broken.append(f"{where} (outside the repository)")
            elif not resolved.exists():
                broken.append(f"{where} (no such file)")
            elif anchor and (resolved.suffix != ".md" or anchor not in anchors(resolved)):
                broken.append(f"{where} (no such heading)")
    assert not broken, "broken links:\n" + "\n".join(broken)


# --- The configuration table ------------------------------------------------------------------

# The one place the application reads its environment: the settings package (every variable
# through its one shared `env`). Beside it only gunicorn's own configuration file, manage.py and
# the metrics directory that gunicorn's master prepares before any Django code runs; no other
# module reads a variable (tests/intelliflow/test_environment.py).
SETTINGS_PACKAGE = ROOT / "intelliflow" / "settings"
ENV_MODULE = "intelliflow.settings.environment"
OTHER_ENVIRONMENT_READERS = (
    ROOT / "gunicorn.conf.py",
    ROOT / "manage.py",
    ROOT / "observability" / "multiprocess.py",
)


def reads_the_environment_by_design(source: Path) -> bool:
    return source.is_relative_to(SETTINGS_PACKAGE) or source in OTHER_ENVIRONMENT_READERS


def _is_os_environ(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def _is_env_constructor(node: ast.AST) -> bool:
    """`environ.Env()` (django-environ)."""
    return isinstance(node, ast.Call) and (
        (isinstance(node.func, ast.Attribute) and node.func.attr == "Env")
        or (isinstance(node.func, ast.Name) and node.func.id == "Env")
    )


def _string_constants(tree: ast.Module) -> dict[str, str]:
    """Module-level `NAME = "literal"`, so `os.environ.get(ENV)` is read as the literal."""
    constants = {}
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    constants[target.id] = node.value.value
    return constants


def _resolve(node: ast.AST | None, constants: dict[str, str]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    return None


def environment_reads(source: Path) -> tuple[set[str], list[str]]:
    """(variables the module reads, reads whose name could not be resolved).

    Reads: django-environ calls on an `environ.Env()` object or on the settings' shared `env`
    (`env.str("X")`, `env.db_url`, `env("X")`, `"X" in env`), `os.environ.get` / `.pop` /
    `[...]` / `in`, and `os.getenv`.
    `os.environ.setdefault` and assignments are writes (the code handing a library its value,
    e.g. DJANGO_SETTINGS_MODULE), not settings, and are left out.
    """
    tree = ast.parse(source.read_text(encoding="utf-8"), filename=str(source))
    constants = _string_constants(tree)
    env_objects = {
        target.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and _is_env_constructor(node.value)
        for target in node.targets
        if isinstance(target, ast.Name)
    }

    def is_env_object(node: ast.AST) -> bool:
        return isinstance(node, ast.Name) and node.id in env_objects

    env_objects |= {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == ENV_MODULE
        for alias in node.names
        if alias.name == "env"
    }

    names, unresolved = set(), []
    for node in ast.walk(tree):
        key = None
        if isinstance(node, ast.Call):
            func = node.func
            reads = (
                is_env_object(func)
                or (isinstance(func, ast.Attribute) and is_env_object(func.value))
                or (
                    isinstance(func, ast.Attribute)
                    and _is_os_environ(func.value)
                    and func.attr in {"get", "pop"}
                )
                or (
                    isinstance(func, ast.Attribute)
                    and func.attr == "getenv"
                    and isinstance(func.value, ast.Name)
                    and func.value.id == "os"
                )
            )
            if not reads:
                continue
            key = node.args[0] if node.args else None
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            if not _is_os_environ(node.value):
                continue
            key = node.slice
        elif isinstance(node, ast.Compare) and len(node.ops) == 1:
            if not isinstance(node.ops[0], ast.In | ast.NotIn):
                continue
            container = node.comparators[0]
            if not (_is_os_environ(container) or is_env_object(container)):
                continue
            # `name in env for name in (...)`: the names are literals read elsewhere too.
            name = _resolve(node.left, constants)
            if name:
                names.add(name)
            continue
        else:
            continue
        name = _resolve(key, constants)
        if name:
            names.add(name)
        else:
            unresolved.append(f"{source.relative_to(ROOT)}:{node.lineno}")
    return names, unresolved


def test_the_configuration_table_lists_exactly_the_variables_the_code_reads():
    read, unresolved = set(), []
    for source in app_sources():
        if not reads_the_environment_by_design(source):
            continue  # reads nothing: tests/intelliflow/test_environment.py
        names, unknown = environment_reads(source)
        read |= names
        unresolved += unknown
    assert not unresolved, (
        f"environment reads whose variable name this test cannot resolve: {unresolved}; "
        "use a literal or a module-level constant, or teach environment_reads() the new form"
    )
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "PROMETHEUS_MULTIPROC_DIR"} <= read, (
        "the parser lost track of the code's reads"
    )

    listed = [
        name
        for cell in table_first_column(CONFIGURATION, "variable")
        for name in re.findall(r"`([A-Z][A-Z0-9_]*)`", cell)
    ]
    duplicated = sorted(name for name, count in Counter(listed).items() if count > 1)
    assert not duplicated, f"docs/configuration.md lists these more than once: {duplicated}"
    missing, unread = sorted(read - set(listed)), sorted(set(listed) - read)
    assert not missing, f"read by the code, missing from docs/configuration.md: {missing}"
    assert not unread, f"in docs/configuration.md, read by no code: {unread}"


# --- The metrics table ------------------------------------------------------------------------

# prometheus_client's metric classes and custom-collector families, by exposition type.
METRIC_TYPES = {
    "Counter": "counter",
    "Gauge": "gauge",
    "Histogram": "histogram",
    "Summary": "summary",
    "Info": "info",
    "Enum": "stateset",
    "CounterMetricFamily": "counter",
    "GaugeMetricFamily": "gauge",
    "HistogramMetricFamily": "histogram",
    "GaugeHistogramMetricFamily": "gaugehistogram",
    "SummaryMetricFamily": "summary",
    "InfoMetricFamily": "info",
    "StateSetMetricFamily": "stateset",
    "UnknownMetricFamily": "unknown",
}
PROJECT_PREFIX = "intelliflow_"


def exposed_name(name: str, kind: str) -> str:
    """The name a family has on /metrics: counters end in `_total`, infos in `_info`."""
    if kind == "counter":
        return name.removesuffix("_total") + "_total"
    if kind == "info":
        return name.removesuffix("_info") + "_info"
    return name


def metric_families_in(source: Path) -> set[str]:
    """The project's families a module defines, by their exposed names. A metric built with
    `registry=None` is registered nowhere, so it is exposed only if a collector yields it
    (the worker CPU gauge, exposed as a counter by a CounterMetricFamily)."""
    tree = ast.parse(source.read_text(encoding="utf-8"), filename=str(source))
    constants = _string_constants(tree)
    families = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if called not in METRIC_TYPES:
            continue
        keywords = {keyword.arg: keyword.value for keyword in node.keywords}
        registry = keywords.get("registry")
        if isinstance(registry, ast.Constant) and registry.value is None:
            continue
        name = _resolve(node.args[0] if node.args else keywords.get("name"), constants)
        if name and name.startswith(PROJECT_PREFIX):
            families.add(exposed_name(name, METRIC_TYPES[called]))
    return families


def defined_metric_families() -> set[str]:
    return set().union(*(metric_families_in(source) for source in app_sources()))


def test_the_metrics_table_lists_exactly_the_families_the_project_registers():
    """The families come from the sources, not from prometheus_client's REGISTRY at run time.

    REGISTRY only holds what the test process happened to import, and what it holds depends on
    the environment: the worker CPU family is a collector registered only without
    PROMETHEUS_MULTIPROC_DIR (under gunicorn the scrape merges the workers' files instead), and
    its gauge carrier is registered nowhere. The sources name every family whatever is
    imported or set; the REGISTRY test below guards the one thing parsing cannot see, a family
    whose name is computed at run time.
    """
    defined = defined_metric_families()
    assert {"intelliflow_database_up", "intelliflow_leads_created_total"} <= defined, (
        "the parser lost track of the code's metrics"
    )
    listed = {
        name
        for cell in table_first_column(OBSERVABILITY, "family")
        for name in re.findall(r"\bintelliflow_[a-z0-9_]*[a-z0-9]", cell)
    }
    missing, gone = sorted(defined - listed), sorted(listed - defined)
    assert not missing, f"registered by the code, missing from docs/observability.md: {missing}"
    assert not gone, f"in docs/observability.md's metrics table, registered by no code: {gone}"


def test_every_registered_family_is_one_the_sources_define():
    from prometheus_client import REGISTRY

    import accounts.metrics  # noqa: F401 - registers the login counters
    import observability.metrics  # noqa: F401 - registers the rest

    registered = {
        exposed_name(family.name, family.type)
        for family in REGISTRY.collect()
        if family.name.startswith(PROJECT_PREFIX)
    }
    assert registered, "nothing registered: the imports above no longer register the metrics"
    unknown = sorted(registered - defined_metric_families())
    assert not unknown, f"families with a computed name this file's parser misses: {unknown}"
