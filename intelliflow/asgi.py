"""ASGI entry point, for servers such as uvicorn or daphne."""

import os

import django
from django.core.handlers.asgi import ASGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "intelliflow.settings")
django.setup(set_prefix=False)

from observability import metrics, tracing  # noqa: E402 - needs settings

tracing.setup_for_process()
metrics.start_sampler()  # pool and process gauges of this worker

application = ASGIHandler()
