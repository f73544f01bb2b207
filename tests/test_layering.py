"""Packages import in one direction, and never in a circle.

Layers, top to bottom; a package imports its own layer's other packages or lower layers only:

1. `intelliflow`: the project's wiring (settings, urls, wsgi, asgi);
2. the apps: accounts, leads, idempotency, health, pages;
3. `observability`: correlation IDs, logs, tracing, Sentry, metrics, check_observability;
4. `common`: the API's shared pieces, importing nothing of the project.

A lower layer that needs a higher one's code is handed it through Django instead: a signal it
sends (common.problems.exception_answered), a registry it owns and the app fills from its
AppConfig.ready() (observability.metrics.register_sampler,
observability.checks.register), a class named in settings (DEFAULT_SCHEMA_CLASS).

The graph is static (ast): every import, at module level or inside a function, absolute or
relative, `from package import submodule` included; migrations are left out. No database.
"""

import ast
import textwrap
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.project import ROOT, project_packages

# package -> layer (1 is the top). Declare a new top-level package here.
LAYERS = {
    "intelliflow": 1,
    "accounts": 2,
    "health": 2,
    "idempotency": 2,
    "leads": 2,
    "pages": 2,
    "observability": 3,
    "common": 4,
}
# What the project package may hold: the wiring, nothing else.
WIRING = {"__init__.py", "settings", "urls.py", "wsgi.py", "asgi.py"}


@dataclass(repr=False)
class ImportGraph:
    """Modules by dotted name, their files, and the project modules each one imports."""

    root: Path
    files: dict[str, Path] = field(default_factory=dict)
    edges: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def __repr__(self) -> str:  # pytest prints it with a failure: the messages say the rest
        return f"ImportGraph({len(self.files)} modules under {self.root})"

    def file(self, module: str) -> str:
        return self.files[module].relative_to(self.root).as_posix()

    def edge(self, source: str, target: str) -> str:
        return f"{self.file(source)} → {self.file(target)}"


def package_of(module: str) -> str:
    return module.split(".", 1)[0]


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported_names(node: ast.AST, module: str, is_package: bool) -> list[str]:
    """The dotted names an import statement may load: `from a import b` gives `a.b` (a
    submodule if one exists, else the module `a`) and is resolved by the caller."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        prefix = ".".join([*base, *([node.module] if node.module else [])])
    else:
        prefix = node.module
    return [prefix, *(f"{prefix}.{alias.name}" for alias in node.names if alias.name != "*")]


def _deepest_module(name: str, files: dict[str, Path]) -> str | None:
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in files:
            return candidate
        parts.pop()
    return None


def import_graph(root: Path, packages) -> ImportGraph:
    graph = ImportGraph(root)
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).parts
            if "__pycache__" in parts or "migrations" in parts:
                continue
            graph.files[module_name(path, root)] = path
    for module, path in graph.files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):
            names = _imported_names(node, module, is_package)
            if isinstance(node, ast.ImportFrom):
                # `from a import b`: the submodule a.b when there is one, else a itself.
                prefix, *members = names
                names = [m if m in graph.files else prefix for m in members] or [prefix]
            for name in names:
                target = _deepest_module(name, graph.files)
                if target is not None:
                    graph.edges[module].add(target)
    return graph


def undeclared_packages(packages, layers: dict[str, int]) -> list[str]:
    return sorted(set(packages) - set(layers))


def upward_edges(graph: ImportGraph, layers: dict[str, int]) -> list[str]:
    """Imports of a higher layer (a smaller number) by a lower one, file → file."""
    found = []
    for source, targets in sorted(graph.edges.items()):
        for target in sorted(targets):
            above, below = layers[package_of(target)], layers[package_of(source)]
            if above < below:
                found.append(
                    f"{graph.edge(source, target)} ({package_of(source)}, layer {below}, "
                    f"imports {package_of(target)}, layer {above})"
                )
    return found


def strongly_connected(nodes, edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components, iteratively (no recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    for start in sorted(nodes):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(edges.get(successor, ())))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    components.append(sorted(component))
    return components


def _cycles(nodes, edges: dict[str, set[str]]) -> list[list[str]]:
    return [
        component
        for component in strongly_connected(nodes, edges)
        if len(component) > 1 or component[0] in edges.get(component[0], ())
    ]


def module_cycles(graph: ImportGraph) -> list[str]:
    """Files that import each other, at any depth: each cycle with the edges inside it."""
    found = []
    for component in _cycles(graph.files, graph.edges):
        members = set(component)
        inside = [
            graph.edge(source, target)
            for source in component
            for target in sorted(graph.edges.get(source, ()))
            if target in members
        ]
        found.append("cycle: " + "; ".join(inside))
    return found


def package_cycles(graph: ImportGraph) -> list[str]:
    """Packages that import each other, at any depth, with the file edges that make it so."""
    package_edges: dict[str, set[str]] = defaultdict(set)
    for source, targets in graph.edges.items():
        for target in targets:
            if package_of(source) != package_of(target):
                package_edges[package_of(source)].add(package_of(target))
    packages = {package_of(module) for module in graph.files}
    found = []
    for component in _cycles(packages, package_edges):
        members = set(component)
        inside = [
            graph.edge(source, target)
            for source, targets in sorted(graph.edges.items())
            for target in sorted(targets)
            if package_of(source) in members
            and package_of(target) in members
            and package_of(source) != package_of(target)
        ]
        found.append(f"cycle between {', '.join(component)}: " + "; ".join(inside))
    return found


def beyond_wiring(package: Path) -> list[str]:
    """Code in `package` other than the wiring: Python files, and folders holding any (a folder
    git left behind with only its __pycache__, after a checkout removed its files, is none)."""
    return sorted(
        entry.name
        for entry in package.iterdir()
        if entry.name not in WIRING
        and (entry.suffix == ".py" if entry.is_file() else any(entry.rglob("*.py")))
    )


# --- The project ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def graph() -> ImportGraph:
    return import_graph(ROOT, project_packages())


def test_every_package_has_a_layer():
    undeclared = undeclared_packages(project_packages(), LAYERS)
    assert not undeclared, (
        f"top-level packages without a layer: {undeclared}; declare each in LAYERS in "
        "tests/test_layering.py (and in the diagram in README.md's 'What is where')"
    )
    gone = sorted(set(LAYERS) - set(project_packages()))
    assert not gone, f"LAYERS in tests/test_layering.py names packages that do not exist: {gone}"


def test_the_graph_sees_the_project(graph):
    """The parser still finds the project's imports: module-level and inside a function."""
    assert "common.problems" in graph.edges["leads.api.views"]
    assert "health.findings" in graph.edges["health.apps"]  # in HealthConfig.ready()
    assert len(graph.files) > 50


def test_no_package_imports_a_higher_layer(graph):
    found = upward_edges(graph, LAYERS)
    assert not found, "imports of a higher layer:\n" + "\n".join(found)


def test_no_cycle_between_packages(graph):
    found = package_cycles(graph)
    assert not found, "packages that import each other:\n" + "\n".join(found)


def test_no_cycle_between_files(graph):
    found = module_cycles(graph)
    assert not found, "files that import each other:\n" + "\n".join(found)


def test_the_project_package_holds_the_wiring_only():
    extra = beyond_wiring(ROOT / "intelliflow")
    assert not extra, (
        f"intelliflow/ holds {extra}: it is the wiring only ({', '.join(sorted(WIRING))}); "
        "move code to the app it belongs to, or to observability/ or common/"
    )


# --- The detector can fail --------------------------------------------------------------------


def write_tree(root: Path, files: dict[str, str]) -> None:
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")


@pytest.fixture
def synthetic(tmp_path) -> ImportGraph:
    """top (layer 1) → base (layer 2), and base.low importing top inside a function; inside
    top, a → b → c → a through a relative import, and a module that imports itself."""
    write_tree(
        tmp_path,
        {
            "top/__init__.py": "",
            "top/a.py": "from top import b\n",
            "top/b.py": "from . import c\nimport base.low\n",
            "top/c.py": "from .a import thing\n",
            "top/selfish.py": "import top.selfish\n",
            "base/__init__.py": "",
            "base/low.py": "def f():\n    from top.a import thing\n",
            "base/migrations/__init__.py": "",
            "base/migrations/0001_initial.py": "import top.a\n",
            "base/leaf.py": "import os\nimport json\n",
        },
    )
    return import_graph(tmp_path, ["top", "base"])


SYNTHETIC_LAYERS = {"top": 1, "base": 2}


def test_the_graph_reads_every_kind_of_import(synthetic):
    assert synthetic.edges["top.a"] == {"top.b"}  # `from package import submodule`
    assert synthetic.edges["top.b"] == {"top.c", "base.low"}  # relative and `import a.b`
    assert synthetic.edges["top.c"] == {"top.a"}  # relative `from .a import name`
    assert synthetic.edges["base.low"] == {"top.a"}  # inside a function
    assert "base.migrations.0001_initial" not in synthetic.files
    assert not synthetic.edges.get("base.leaf")  # the standard library is not the project


def test_an_upward_edge_is_reported_file_to_file(synthetic):
    assert upward_edges(synthetic, SYNTHETIC_LAYERS) == [
        "base/low.py → top/a.py (base, layer 2, imports top, layer 1)"
    ]


def test_a_cycle_between_packages_is_reported(synthetic):
    (cycle,) = package_cycles(synthetic)
    assert cycle.startswith("cycle between base, top: ")
    assert "base/low.py → top/a.py" in cycle
    assert "top/b.py → base/low.py" in cycle


def test_cycles_between_files_are_reported(synthetic):
    cycles = module_cycles(synthetic)
    assert len(cycles) == 2
    (loop,) = [c for c in cycles if "top/a.py" in c]
    for edge in ("top/a.py → top/b.py", "top/b.py → top/c.py", "top/c.py → top/a.py"):
        assert edge in loop
    assert "base/low.py → top/a.py" in loop  # the cycle runs through base too
    assert "cycle: top/selfish.py → top/selfish.py" in cycles


def test_an_undeclared_package_is_reported():
    assert undeclared_packages(["top", "base", "newcomer"], SYNTHETIC_LAYERS) == ["newcomer"]


def test_the_project_packages_are_derived_from_the_tree(tmp_path):
    write_tree(
        tmp_path,
        {
            "app/__init__.py": "",
            "tests/__init__.py": "",
            "bench/__init__.py": "",
            "templates/page.html": "",
            ".venv/__init__.py": "",
        },
    )
    assert project_packages(tmp_path) == ("app",)


def test_code_in_the_project_package_is_reported(tmp_path):
    write_tree(
        tmp_path,
        {
            "urls.py": "",
            "settings/__init__.py": "",
            "helpers.py": "",
            "management/commands/seed.py": "",
            # what a checkout leaves of a folder whose files it removed
            "stale/__pycache__/gone.cpython-311.pyc": "",
        },
    )
    assert beyond_wiring(tmp_path) == ["helpers.py", "management"]
