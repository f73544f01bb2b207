"""The settings (DJANGO_SETTINGS_MODULE=intelliflow.settings), one module per area, composed
below in this order. Each module reads its own environment variables through the one shared
`env` (environment.py), each once, with its default and meaning beside it, and imports what it
needs from the modules above it:

- core: DEBUG, the secret key, hosts, apps, URLs, templates; auth, i18n and static files
- security: the Content-Security-Policy, HTTPS, HSTS, cookies
- metrics: the METRICS_ENABLED switch, /metrics; the bundled stack's URLs
- tracing: OTEL_ENABLED, the Django instrumentation, the exporter and sampler
- middleware: MIDDLEWARE, every entry, by the two switches above
- database: DATABASES, its engine (with or without metrics), bounds, pool
- api: REST_FRAMEWORK, the schema, limits; the health probes
- logs: LOGGING and LOGGING_CONFIG
- login: django-axes' limits and lockouts
- errors: Sentry, started last

Production differs from development by environment values only. docs/configuration.md lists
the variables. Nothing changes these settings once they are loaded.
"""

# In the order above, not alphabetical.
# isort: off
from intelliflow.settings.core import *  # noqa: F403
from intelliflow.settings.security import *  # noqa: F403
from intelliflow.settings.metrics import *  # noqa: F403
from intelliflow.settings.tracing import *  # noqa: F403
from intelliflow.settings.middleware import *  # noqa: F403
from intelliflow.settings.database import *  # noqa: F403
from intelliflow.settings.api import *  # noqa: F403
from intelliflow.settings.logs import *  # noqa: F403
from intelliflow.settings.login import *  # noqa: F403
from intelliflow.settings.errors import *  # noqa: F403
# isort: on
