"""Fixtures of other test folders that the security tests use too."""

from tests.observability.conftest import json_logs

__all__ = ["json_logs"]
