"""The HTTP API: DRF and its schema, pages and limits, problem details; the health probes."""

from datetime import timedelta

from intelliflow.settings.core import DEBUG, VERSION
from intelliflow.settings.environment import env

# --- REST API ----------------------------------------------------------------------------------

API_PAGE_SIZE = env.int("API_PAGE_SIZE", default=50)
API_MAX_PAGE_SIZE = 100
LEAD_IMPORT_MAX_ROWS = 1000
LEAD_IMPORT_MAX_BYTES = env.int("LEAD_IMPORT_MAX_BYTES", default=5 * 1024 * 1024)
# Problem "type" URIs (RFC 9457) are this prefix plus a slug such as "validation-error".
PROBLEM_TYPE_BASE = env.str("PROBLEM_TYPE_BASE", default="https://intelliflow.example/problems/")
# A CSRF refusal under /api/, /health or /metrics is a problem too; the admin keeps Django's page.
CSRF_FAILURE_VIEW = "common.problems.csrf_failure"
# How long a successful create is remembered for its Idempotency-Key (idempotency/api.py).
IDEMPOTENCY_KEY_TTL = timedelta(hours=24)

REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header is what turns an anonymous request into a 401.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # DRF's, reading only the user fields requests use (leads/api/authentication.py).
        "leads.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "DEFAULT_FILTER_BACKENDS": [
        # django-filter's, skipped when no filter parameter is given (leads/api/filters.py).
        "leads.api.filters.QueryStringFilterBackend",
        "rest_framework.filters.SearchFilter",
        "leads.api.filters.StableOrderingFilter",
    ],
    # DRF's parsers, closing two gaps in their limits (common/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "common.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "common.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "common.pagination.PageNumberPagination",
    "PAGE_SIZE": API_PAGE_SIZE,
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.UserRateThrottle",
        "rest_framework.throttling.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env.str("API_THROTTLE_USER_RATE", default="1000/minute"),
        "anon": env.str("API_THROTTLE_ANON_RATE", default="60/minute"),
    },
    "EXCEPTION_HANDLER": "common.problems.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "idempotency.schema.IdempotencyAutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "IntelliFlow CRM API",
    "DESCRIPTION": (
        "Leads REST API. Errors are RFC 9457 problem details (application/problem+json) that "
        "carry the request's correlation_id."
    ),
    "VERSION": VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "/favicon.ico",  # the site's own (pages/public/)
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "LeadStatusEnum": "leads.models.LeadStatus",
        "LeadSourceEnum": "leads.models.LeadSource",
    },
}

# --- Health probes (health/) -------------------------------------------------------------------

RELEASE_ID = env.str("RELEASE_ID", default=VERSION)  # e.g. the image tag or git SHA
# Each probe answers within this budget, whatever its dependencies do (Kubernetes' default
# probe timeout is 1 s).
HEALTH_CHECK_TIMEOUT_SECONDS = env.float("HEALTH_CHECK_TIMEOUT_SECONDS", default=0.5)
HEALTH_DATABASE_WARN_MS = env.float("HEALTH_DATABASE_WARN_MS", default=200.0)
HEALTH_POOL_WARN_RATIO = env.float("HEALTH_POOL_WARN_RATIO", default=0.9)
HEALTH_MAX_RSS_BYTES = env.int("HEALTH_MAX_RSS_MB", default=0) * 1024 * 1024 or None
# After SIGTERM a worker keeps serving this long with /health/ready failing (gunicorn.conf.py).
HEALTH_DRAIN_SECONDS = env.float("HEALTH_DRAIN_SECONDS", default=5.0)
HEALTH_TOKEN = env.str("HEALTH_TOKEN", default="")
