"""Only the settings read the environment: outside intelliflow/settings/ (and gunicorn.conf.py,
manage.py, observability/multiprocess.py) no application module reads a variable, in any form;
code uses the settings, which read each variable once. The OpenTelemetry SDK, gunicorn and
prometheus_client read their own documented variables themselves: that is theirs.

No database and no server: the test parses Python sources (tests/test_docs.py checks the
variables read in the settings against docs/configuration.md).
"""

import ast
from pathlib import Path

from tests.test_docs import (
    ENV_MODULE,
    ROOT,
    SETTINGS_PACKAGE,
    _is_os_environ,
    app_sources,
    reads_the_environment_by_design,
)


def environment_access(source: Path) -> list[int]:
    """Lines where a module gets at the environment in any way but handing a library a value
    (`os.environ[...] = ...`, `os.environ.setdefault(...)`): `os.environ` however used,
    `os.getenv`, importing them from `os`, django-environ, or the settings' `env`."""
    tree = ast.parse(source.read_text(encoding="utf-8"), filename=str(source))
    writes = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.ctx, ast.Store | ast.Del)
            and _is_os_environ(node.value)
        ):
            writes.add(id(node.value))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "setdefault"
            and _is_os_environ(node.func.value)
        ):
            writes.add(id(node.func.value))
    return sorted(node.lineno for node in ast.walk(tree) if _gets_at_environment(node, writes))


def _gets_at_environment(node: ast.AST, writes: set[int]) -> bool:
    if _is_os_environ(node):
        return id(node) not in writes
    if isinstance(node, ast.Attribute):
        return (
            node.attr in {"getenv", "getenvb", "environb"}
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
        )
    if isinstance(node, ast.ImportFrom):
        imported = {alias.name for alias in node.names}
        return node.module in {"environ", ENV_MODULE} or (
            node.module == "os" and bool(imported & {"environ", "getenv"})
        )
    if isinstance(node, ast.Import):
        return any(alias.name == "environ" for alias in node.names)
    return False


def test_no_module_outside_the_settings_reads_the_environment():
    """Every module but the settings and the three beside them: no read at all."""
    elsewhere = {
        str(source.relative_to(ROOT)): lines
        for source in app_sources()
        if not reads_the_environment_by_design(source) and (lines := environment_access(source))
    }
    assert not elsewhere, (
        "modules reading the environment outside intelliflow/settings/ (file: lines): "
        f"{elsewhere}; read the variable once in the settings module of its area, with its "
        "default and meaning, and use the setting"
    )
    assert environment_access(SETTINGS_PACKAGE / "environment.py"), "the detector lost track"
