"""The project package as an app, so it can ship management commands and templates."""

from django.apps import AppConfig


class IntelliflowConfig(AppConfig):
    name = "intelliflow"
    verbose_name = "IntelliFlow CRM"
