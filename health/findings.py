"""`check_observability`'s health and database areas: the ready checks and the health URLs,
then the database, its migrations and its connection pool, each as health/checks.py measures
it. HealthConfig.ready() registers both areas with observability.checks."""

from django.urls import NoReverseMatch, reverse

from health import checks
from health.reporting import overall_status, run_checks
from observability.checks.base import FAIL, PASS, Finding


def _outcome_findings(area: str, outcomes) -> list[Finding]:
    findings = []
    for outcome in outcomes:
        values = ", ".join(
            f"{name}={obs.value}{obs.unit and ' ' + obs.unit}"
            for name, obs in outcome.observations.items()
        )
        name = " ".join([outcome.component, *outcome.observations][:2])
        findings.append(
            Finding(
                area,
                name,
                outcome.status,
                outcome.output or values or "ok",
                "" if outcome.status == PASS else "See /health/check.",
            )
        )
    return findings


def check_health() -> list[Finding]:
    outcomes = run_checks(checks.ready_checks())
    status = overall_status(outcomes)
    found = [
        Finding(
            "health",
            "ready",
            status,
            "; ".join(o.output for o in outcomes if o.output) or "all ready checks pass",
            "" if status == PASS else "GET /health/ready shows which check fails.",
        )
    ]
    try:
        for name in ("health-ping", "health-alive", "health-ready", "health-check"):
            reverse(name)
    except NoReverseMatch as error:
        found.append(Finding("health", "urls", FAIL, str(error), "Include health.urls."))
    else:
        found.append(Finding("health", "urls", PASS, "ping, alive, ready, check resolve"))
    return found


def check_database() -> list[Finding]:
    return _outcome_findings(
        "database",
        run_checks([checks.DatabaseCheck(), checks.MigrationsCheck(), checks.DatabasePoolCheck()]),
    )
