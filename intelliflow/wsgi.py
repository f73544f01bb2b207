"""WSGI entry point (gunicorn serves `intelliflow.wsgi:application`)."""

import os

import django
from django.core.handlers.wsgi import WSGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "intelliflow.settings")
django.setup(set_prefix=False)

from observability import metrics, tracing  # noqa: E402 - needs settings

# Before the handler is built, so the OTel middleware is part of its chain.
tracing.setup_for_process()
metrics.start_sampler()  # pool and process gauges of this worker

application = WSGIHandler()
