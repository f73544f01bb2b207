"""Running every area's checks (in parallel, a failing check becoming a failed finding) and the
JSON report of `manage.py check_observability --json`.

`CHECKS` holds observability's own areas; an app adds its own with `register(area, check)`
from its AppConfig.ready() (health: "health" and "database"), reported after them in the order
registered, and the bundled stack's comes last."""

import dataclasses
import io
import json
from concurrent.futures import ThreadPoolExecutor

from observability.checks.base import FAIL, PASS, WARN, Finding
from observability.checks.errors import check_errors
from observability.checks.logging import check_correlation, check_logging
from observability.checks.metrics import check_metrics
from observability.checks.settings import check_settings
from observability.checks.stack import check_stack
from observability.checks.tracing import check_tracing

CHECKS = {
    "settings": check_settings,
    "logging": check_logging,
    "correlation": check_correlation,
    "tracing": check_tracing,
    "errors": check_errors,
    "metrics": check_metrics,
}


def register(area: str, check) -> None:
    """Report `check()`'s findings (a list of Finding) as `area`, after the areas before it;
    registering an area again replaces its check in place."""
    CHECKS[area] = check


def run_all(*, stack: bool) -> list[Finding]:
    """Every check; the slow ones (network) run in parallel so the whole stays bounded."""
    selected = dict(CHECKS)
    if stack:
        selected["stack"] = check_stack
    with ThreadPoolExecutor(len(selected)) as pool:
        futures = [pool.submit(_guarded, area, check) for area, check in selected.items()]
        return [finding for future in futures for finding in future.result()]


def _guarded(area: str, check) -> list[Finding]:
    try:
        return check()
    except Exception as error:  # a broken check is a failed check, not a crashed command
        return [
            Finding(
                area,
                "check",
                FAIL,
                f"{type(error).__name__}: {error}",
                "This check itself failed; see the traceback with --traceback.",
            )
        ]
    finally:
        from django.db import connections

        connections.close_all()


def render_json(findings: list[Finding], signals: dict | None = None) -> str:
    counts = {status: sum(f.status == status for f in findings) for status in (PASS, WARN, FAIL)}
    worst = FAIL if counts[FAIL] else WARN if counts[WARN] else PASS
    body = {
        "status": worst,
        "summary": counts,
        "checks": [dataclasses.asdict(finding) for finding in findings],
    }
    if signals is not None:
        body["signals"] = signals
    buffer = io.StringIO()
    json.dump(body, buffer, indent=2)
    return buffer.getvalue()
