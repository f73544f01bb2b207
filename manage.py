#!/usr/bin/env python
"""Django's command-line utility for IntelliFlow CRM."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "intelliflow.settings")
    import django
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        django.setup()
    except ImproperlyConfigured:
        pass  # the command below reports it the way Django always does
    else:
        from observability import tracing

        tracing.setup_for_process()
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
