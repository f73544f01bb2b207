"""ASGI entry point, for servers such as uvicorn or daphne."""

import os

import django
from django.core.handlers.asgi import ASGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "intelliflow.settings")
django.setup(set_prefix=False)

from observability import startup  # noqa: E402 - needs settings

startup.start_serving_process()

application = ASGIHandler()
