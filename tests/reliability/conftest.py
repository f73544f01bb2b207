"""Fixtures for the reliability tests: faults, outages, fuzzing, properties and load.

The real-SDK capture fixtures (in-memory spans, Sentry's capturing transport, JSON logs) are
the observability tests' own, imported here rather than copied. Hypothesis profiles keep CI
bounded: `HYPOTHESIS_PROFILE=thorough` (make fuzz) runs many more examples.
"""

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token

from tests.factories import UserFactory
from tests.observability.conftest import (  # noqa: F401 - fixtures, shared on purpose
    _tracing,
    json_logs,
    sentry_transport,
    spans,
)

settings.register_profile(
    "ci",
    max_examples=int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", "100")),
    deadline=None,  # a database round trip is not a performance regression
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile(
    "thorough",
    max_examples=int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", "500")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def server_token(transactional_db) -> str:
    """A committed API token, so a server process started by the test can use it."""
    return Token.objects.create(user=UserFactory(username="reliability")).key


def json_lines(path: Path) -> list[dict]:
    """The JSON log lines of a server's output (gunicorn's own lines are plain text)."""
    lines = []
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            try:
                lines.append(json.loads(line))
            except ValueError:
                continue
    return lines
