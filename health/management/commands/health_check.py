"""Exec probe: `manage.py health_check ready` exits 0 when ready (pass or warn), 1 when not."""

import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from health import checks
from health.reporting import FAIL, health_body, run_checks, run_one

PROBES = {
    "ready": ("readiness to serve traffic", checks.ready_checks),
    "alive": (
        "liveness of this process",
        lambda: [checks.ProcessCheck(max_rss_bytes=settings.HEALTH_MAX_RSS_BYTES)],
    ),
    "check": ("all health checks", checks.all_checks),
}


class Command(BaseCommand):
    help = "Run a health probe (ready, alive or check), print its health+json, exit 1 on fail."

    def add_arguments(self, parser):
        parser.add_argument("probe", choices=sorted(PROBES), nargs="?", default="ready")

    def handle(self, *args, probe, **options):
        description, make_checks = PROBES[probe]
        probe_checks = make_checks()
        outcomes = (
            [run_one(c) for c in probe_checks] if probe == "alive" else run_checks(probe_checks)
        )
        body = health_body(outcomes, description=description)
        self.stdout.write(json.dumps(body))
        if body["status"] == FAIL:
            raise CommandError(f"{probe}: fail", returncode=1)
