"""Run checks under a hard time budget and report them as application/health+json.

Checks run on a small per-process thread pool and the caller waits at most the budget: a
check still running then is reported as failed ("timed out") and left to finish on its own,
so the probe answers in time even when a dependency hangs. The body follows
draft-inadarei-api-health-check: `status`, `version`, `releaseId`, `serviceId`, and `checks`
keyed `component:measurement`.
"""

import asyncio
import dataclasses
import inspect
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import UTC, datetime

from django.conf import settings
from health_check.exceptions import HealthCheckException, ServiceWarning

HEALTH_CONTENT_TYPE = "application/health+json"
PASS, WARN, FAIL = "pass", "warn", "fail"
_SEVERITY = {PASS: 0, WARN: 1, FAIL: 2}

logger = logging.getLogger(__name__)

_executor: ThreadPoolExecutor | None = None
_executor_pid: int | None = None
_executor_lock = threading.Lock()


def _checks_executor() -> ThreadPoolExecutor:
    """Created lazily in each process (gunicorn workers fork after the module is imported)."""
    global _executor, _executor_pid
    with _executor_lock:
        if _executor is None or _executor_pid != os.getpid():
            _executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="health-check")
            _executor_pid = os.getpid()
        return _executor


@dataclasses.dataclass
class Outcome:
    check: object
    status: str
    output: str
    observations: dict
    time: datetime
    duration_ms: float

    @property
    def component(self) -> str:
        return getattr(self.check, "component", type(self.check).__name__.lower())


def run_one(check) -> Outcome:
    started, moment = time.perf_counter(), datetime.now(UTC)
    try:
        result = check.run()
        if inspect.isawaitable(result):  # the library allows async checks
            asyncio.run(result)
        status, output = PASS, ""
    except ServiceWarning as warning:
        status, output = WARN, warning.message
    except HealthCheckException as error:
        status, output = FAIL, error.message
    except Exception:
        logger.exception("health check %s crashed", type(check).__name__)
        status, output = FAIL, "unexpected error (see logs)"
    duration_ms = round((time.perf_counter() - started) * 1000, 2)
    observations = dict(getattr(check, "observations", {}))
    return Outcome(check, status, output, observations, moment, duration_ms)


def run_checks(checks, *, timeout_seconds: float | None = None) -> list[Outcome]:
    """Run `checks` in parallel and wait at most `timeout_seconds` for all of them."""
    timeout = settings.HEALTH_CHECK_TIMEOUT_SECONDS if timeout_seconds is None else timeout_seconds
    moment = datetime.now(UTC)
    futures = [(check, _checks_executor().submit(run_one, check)) for check in checks]
    wait([future for _, future in futures], timeout=timeout)
    outcomes = []
    for check, future in futures:
        if future.done():
            outcomes.append(future.result())
        else:
            output = f"timed out after {timeout * 1000:g} ms"
            outcomes.append(Outcome(check, FAIL, output, {}, moment, timeout * 1000))
    return outcomes


def overall_status(outcomes) -> str:
    return max((outcome.status for outcome in outcomes), key=_SEVERITY.get, default=PASS)


def http_status(status: str) -> int:
    return 503 if status == FAIL else 200


def _check_entries(outcome: Outcome) -> dict[str, dict]:
    observations = outcome.observations or {"responseTime": (outcome.duration_ms, "ms")}
    entries = {}
    for measurement, observation in observations.items():
        value, unit = (
            observation if isinstance(observation, tuple) else (observation.value, observation.unit)
        )
        entry = {
            "componentType": getattr(outcome.check, "component_type", "component"),
            "observedValue": value,
            "status": outcome.status,
            "time": outcome.time.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }
        if unit:
            entry["observedUnit"] = unit
        if outcome.output:
            entry["output"] = outcome.output
        entries[f"{outcome.component}:{measurement}"] = entry
    return entries


def service_fields(description: str) -> dict:
    """What every health+json body says about the service that answers."""
    return {
        "version": settings.VERSION,
        "releaseId": settings.RELEASE_ID,
        "serviceId": settings.OTEL_SERVICE_NAME,
        "description": description,
    }


def health_body(outcomes, *, description: str, **extra) -> dict:
    status = overall_status(outcomes)
    checks: dict[str, list[dict]] = {}
    for outcome in outcomes:
        for key, entry in _check_entries(outcome).items():
            checks.setdefault(key, []).append(entry)
    return {"status": status, **service_fields(description), **extra, "checks": checks}
