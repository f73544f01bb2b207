"""The status page's rows: each check outcome in words and units people read.

The outcomes are the ones /health/check reports (`reporting.run_checks`); only their wording
changes here: one row per check under the check's `title` (several checks share a
`component`), bytes in MiB, ratios in %, durations in ms or s, booleans and None as words that
say what they mean. The template only loops over these rows.
"""

import dataclasses
import re

from health.reporting import Outcome

NBSP = "\u00a0"  # between a number and its unit, so a narrow cell never splits them
MIB = 1024 * 1024
NOT_MEASURED = "not measured"

# Checks from django-health-check, which have no `title` of their own.
LIBRARY_TITLES = {"Cache": "Shared cache"}

MEASUREMENT_LABELS = {
    "responseTime": "Response time",
    "pendingMigrations": "Pending migrations",
    "utilization": "Connections in use",
    "waiting": "Requests waiting",
    "uptime": "Uptime",
    "residentMemory": "Resident memory",
    "threads": "Threads",
    "draining": "State",
}


@dataclasses.dataclass(frozen=True)
class Reading:
    label: str
    value: str


@dataclasses.dataclass(frozen=True)
class StatusRow:
    title: str
    status: str  # pass, warn or fail, as /health/check says (also the badge's CSS class)
    readings: tuple[Reading, ...]
    took: str
    output: str


def _decimal(value: float, places: int) -> str:
    """`value` to `places` decimals, without trailing zeros ("12.5", "0", "1,024")."""
    text = f"{value:,.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_ms(value: float) -> str:
    places = 2 if abs(value) < 1 else 1 if abs(value) < 100 else 0
    return f"{_decimal(value, places)}{NBSP}ms"


def format_seconds(value: float) -> str:
    """42.5 s, 12 min 5 s, 3 h 12 min, 2 d 4 h."""
    if value < 60:
        return f"{_decimal(value, 1 if value < 10 else 0)}{NBSP}s"
    seconds = round(value)
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    if days:
        return f"{days}{NBSP}d {hours}{NBSP}h"
    if hours:
        return f"{hours}{NBSP}h {minutes}{NBSP}min"
    return f"{minutes}{NBSP}min {seconds}{NBSP}s"


def format_mebibytes(value: float) -> str:
    return f"{_decimal(value / MIB, 1)}{NBSP}MiB"


def format_percent(value: float) -> str:
    return f"{_decimal(value, 1)}{NBSP}%"


def format_value(value, unit: str = "") -> str:
    """Any observed value by its unit: the fallback for measurements without their own wording."""
    if value is None:
        return NOT_MEASURED
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        if unit == "ms":
            return format_ms(value)
        if unit == "s":
            return format_seconds(value)
        if unit == "bytes":
            return format_mebibytes(value)
        if unit == "%":
            return format_percent(value)
        number = f"{value:,}" if isinstance(value, int) else _decimal(value, 2)
        return f"{number}{NBSP}{unit}" if unit else number
    return f"{value}{NBSP}{unit}" if unit else str(value)


def format_reading(measurement: str, value, unit: str = "") -> str:
    if measurement == "draining" and isinstance(value, bool):
        return "draining" if value else "serving"
    if measurement == "utilization" and value is None:
        return "not pooled (this database has no connection pool)"
    if measurement == "pendingMigrations" and value == 0:
        return "none"
    return format_value(value, unit)


def measurement_label(measurement: str) -> str:
    if measurement in MEASUREMENT_LABELS:
        return MEASUREMENT_LABELS[measurement]
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", measurement).replace("_", " ").lower()
    return words[:1].upper() + words[1:]


def check_title(check) -> str:
    title = getattr(check, "title", None) or LIBRARY_TITLES.get(type(check).__name__)
    if not title:
        title = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", type(check).__name__)
    alias = getattr(check, "alias", "default")
    return title if alias == "default" else f"{title} ({alias})"


def readings(outcome: Outcome) -> tuple[Reading, ...]:
    # As /health/check: a check that observed nothing (a library check, one that timed out)
    # reports how long it took as its response time.
    if not outcome.observations:
        return (Reading(MEASUREMENT_LABELS["responseTime"], format_ms(outcome.duration_ms)),)
    found = []
    for measurement, observation in outcome.observations.items():
        value, unit = (
            observation if isinstance(observation, tuple) else (observation.value, observation.unit)
        )
        label = measurement_label(measurement)
        found.append(Reading(label, format_reading(measurement, value, unit)))
    return tuple(found)


def status_rows(outcomes: list[Outcome]) -> list[StatusRow]:
    """One row per outcome, in the order the checks ran, each under a name no other row has."""
    rows, seen = [], set()
    for outcome in outcomes:
        title = check_title(outcome.check)
        number = 2
        while title in seen:
            title = f"{check_title(outcome.check)} {number}"
            number += 1
        seen.add(title)
        rows.append(
            StatusRow(
                title=title,
                status=outcome.status,
                readings=readings(outcome),
                took=format_ms(outcome.duration_ms),
                output=outcome.output,
            )
        )
    return rows
