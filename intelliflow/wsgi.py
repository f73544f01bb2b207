"""WSGI entry point (gunicorn serves `intelliflow.wsgi:application`)."""

import gc
import os

import django
from django.core.handlers.wsgi import WSGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "intelliflow.settings")
django.setup(set_prefix=False)

from common.wsgi import ChunkedRequestBody, NoBodyForHead  # noqa: E402
from health.fastpath import PingFastPath  # noqa: E402 - needs settings
from observability import startup  # noqa: E402 - needs settings

# Before the first request: with tracing on, this configures the tracing middleware that
# settings.MIDDLEWARE lists first (observability/tracing.py).
startup.start_serving_process()

application = NoBodyForHead(ChunkedRequestBody(PingFastPath(WSGIHandler())))

# Everything loaded so far lives as long as the process: move it out of the collector's sight,
# so the full collections that request garbage triggers no longer walk the whole of Django.
gc.collect()
gc.freeze()
