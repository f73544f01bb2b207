"""The one settings module: every value comes from the environment, read once with typed readers.

Production differs from development by environment values only. docs/configuration.md lists
the variables.
"""

import ipaddress
import warnings
from datetime import timedelta
from pathlib import Path

import csp.constants
import environ
from django.core.exceptions import ImproperlyConfigured

from intelliflow import __version__
from observability.logging import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

# --- Core --------------------------------------------------------------------------------------

DEBUG = env.bool("DJANGO_DEBUG", default=False)
DJANGO_ENV = env.str("DJANGO_ENV", default="development" if DEBUG else "production")
VERSION = __version__

# Required without DEBUG. A missing key is not an import error here, so that
# `check_observability` and `check --deploy` can still load the settings and report it; serving
# fails fast instead (intelliflow/wsgi.py, asgi.py), and Django refuses an empty key on first use.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
SECRET_KEY_MISSING = (
    "DJANGO_SECRET_KEY is required when DJANGO_DEBUG is false. Set it to a long random value "  # noqa: S105
    "(python -c 'import secrets; print(secrets.token_urlsafe(50))'), or set DJANGO_DEBUG=true "
    "for local development."
)
if not SECRET_KEY and DEBUG:
    SECRET_KEY = "django-insecure-development-only-key"  # noqa: S105 - only ever used with DEBUG

ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
# On Kubernetes kubelet's probes and Prometheus' scrapes call the pod by its IP
# (`Host: <pod IP>:8000`): the Deployment passes the pod's own IP (downward API, status.podIP),
# and that one address is allowed too. Any other Host is still refused.
POD_IP = env.str("POD_IP", default="")
if POD_IP:
    ALLOWED_HOSTS.append(f"[{POD_IP}]" if ":" in POD_IP else POD_IP)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "pages",
    "csp",
    "observability.apps.ObservabilityConfig",
    "health",
    "leads",
    "idempotency",
    "axes",
    "accounts",
]

# The one switch for request and query metrics (middleware and database backend).
METRICS_ENABLED = env.bool("METRICS_ENABLED", default=True)

# With tracing on, tracing.instrument() runs opentelemetry-instrumentation-django, which puts
# its middleware first (that is how it installs itself); correlation and the access line run
# inside its span and around everything else.
MIDDLEWARE = [
    # Sentry's per-request scope and, when Sentry tracing is on, its transaction as the OTel
    # server span (first, so right inside that span); with Sentry off it passes through.
    "observability.errors.SentryRequestMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "observability.correlation.CorrelationIdMiddleware",
    "observability.logging.AccessLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every response (django-csp for pages; pages/csp.py).
    "pages.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Login attempts beyond LOGIN_CONCURRENCY per worker are turned away before any work.
    "accounts.gate.LoginGateMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Turns a login that django-axes refused or locked out into its lockout page (429).
    "axes.middleware.AxesMiddleware",
    # Last but one: a view's lost database becomes a 503 after the exception has been counted.
    "common.problems.DatabaseUnavailableMiddleware",
    "observability.metrics.PrometheusAfterMiddleware",
]
if not METRICS_ENABLED:
    MIDDLEWARE = [m for m in MIDDLEWARE if "Prometheus" not in m]

ROOT_URLCONF = "intelliflow.urls"
WSGI_APPLICATION = "intelliflow.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "pages.context_processors.version",
            ],
        },
    },
]

# --- Database ----------------------------------------------------------------------------------
# SQLite by default; PostgreSQL through DATABASE_URL=postgres://user:pass@host:5432/name.
# On PostgreSQL each worker keeps a psycopg connection pool (Django's native "pool" option),
# chosen over persistent connections by measurement (docs/operations.md, "Database connections").

DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DB_POOL_ENABLED = env.bool("DB_POOL_ENABLED", default=True)
if METRICS_ENABLED:
    # django-prometheus' backends: the same engines, with query and connection metrics
    # (PostgreSQL through observability.db.postgresql, which builds its cursor class once).
    DATABASES["default"]["ENGINE"] = (
        DATABASES["default"]["ENGINE"]
        .replace("django.db.backends.postgresql", "observability.db.postgresql")
        .replace("django.db.backends.", "django_prometheus.db.backends.")
    )
# No wait on PostgreSQL is unbounded (docs/operations.md, "When the database fails"):
# connecting gives up after DB_CONNECT_TIMEOUT (libpq counts whole seconds, at least 2), the
# server cancels a statement after DB_STATEMENT_TIMEOUT, and the client gives up one second
# later when the server cannot even do that (a stalled network or a hung server;
# common/database.py).
# 0 turns both statement bounds off, e.g. for a long migration; gunicorn's timeout remains.
DB_CONNECT_TIMEOUT = env.int("DB_CONNECT_TIMEOUT", default=3)
DB_STATEMENT_TIMEOUT = env.float("DB_STATEMENT_TIMEOUT", default=5.0)
if DATABASES["default"]["ENGINE"].endswith(".postgresql"):
    from common.database import bounded_connection_class

    db_options = DATABASES["default"].setdefault("OPTIONS", {})
    db_options.setdefault("connect_timeout", DB_CONNECT_TIMEOUT)
    # Keepalives find a peer that vanished (a dead host, a dropped NAT entry) while idle.
    db_options.setdefault("keepalives_idle", 30)
    db_options.setdefault("keepalives_interval", 10)
    db_options.setdefault("keepalives_count", 3)
    # Server-side parameter binding lets psycopg prepare a statement on a connection after its
    # DB_PREPARE_THRESHOLD-th run, so the server parses and plans the hot queries (token, lead,
    # page, count) once per connection instead of on every request. Both are Django's own
    # OPTIONS (off by default for transaction-pooling PgBouncer before 1.21, which cannot keep
    # a prepared statement on a server connection): DB_PREPARE_THRESHOLD=0 turns both off.
    DB_PREPARE_THRESHOLD = env.int("DB_PREPARE_THRESHOLD", default=5)
    if DB_PREPARE_THRESHOLD:
        db_options.setdefault("server_side_binding", True)
        db_options.setdefault("prepare_threshold", DB_PREPARE_THRESHOLD)
    if DB_STATEMENT_TIMEOUT:
        statement_timeout = f"-c statement_timeout={DB_STATEMENT_TIMEOUT * 1000:.0f}"
        db_options["options"] = f"{db_options.get('options', '')} {statement_timeout}".strip()
    if DB_POOL_ENABLED:
        db_options["pool"] = {
            "min_size": env.int("DB_POOL_MIN_SIZE", default=1),
            "max_size": env.int("DB_POOL_MAX_SIZE", default=4),
            "timeout": env.float("DB_POOL_TIMEOUT", default=5.0),
            "connection_class": bounded_connection_class(
                DB_STATEMENT_TIMEOUT + 1 if DB_STATEMENT_TIMEOUT else None
            ),
            # psycopg_pool retries a failed connect with a doubling back-off for this long
            # (default 5 minutes): the pool would stay empty for minutes after the database is
            # back. Giving up sooner lets the next request start a fresh attempt.
            "reconnect_timeout": 5.0,
        }
        DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool owns connection lifetime
    else:
        DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    # A connection that died while idle (the server restarted, a failover, an idle timeout) is
    # found before use and replaced, so a failover that already finished costs no failed
    # request. With the pool, Django passes psycopg_pool's check_connection (one empty round
    # trip per checkout); with persistent connections it checks at the start of a request.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth, i18n, static files ------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
# Chosen by configuration, never by what is on disk. Off (`make run`, the tests): WhiteNoise
# serves the apps' files as they are. On (the container image sets it and runs collectstatic):
# collectstatic writes hashed names, a manifest and gzip/Brotli copies to STATIC_ROOT, pages
# link the hashed names, and WhiteNoise serves them with a year's `immutable` caching and the
# compressed copy the browser accepts. On without collectstatic, pages fail ("Missing
# staticfiles manifest entry"): check_observability says so first.
STATIC_MANIFEST = env.bool("DJANGO_STATIC_MANIFEST", default=False)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST
if not STATIC_MANIFEST:
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
# Files served at the site's root (/favicon.ico), as WhiteNoise documents for such files.
WHITENOISE_ROOT = BASE_DIR / "pages" / "public"
WHITENOISE_AUTOREFRESH = DEBUG

# --- Security ----------------------------------------------------------------------------------

# Content-Security-Policy (django-csp; Django 5.2 has no built-in one): only this origin's
# scripts, styles, images and fonts, plus what a page marks with the request's nonce
# (`nonce="{{ request.csp_nonce }}"`: Swagger UI's initialiser and its page style). `data:`
# images are Swagger UI's icons. No page may be framed, and forms post only here.
# DJANGO_CSP_REPORT_ONLY=true sends the same policy as Content-Security-Policy-Report-Only
# (browsers report, nothing is blocked: for trying a change); DJANGO_CSP_REPORT_URI is where
# browsers send violation reports (e.g. a Sentry project's security endpoint).
_csp_directives = {
    "default-src": [csp.constants.SELF],
    "script-src": [csp.constants.SELF, csp.constants.NONCE],
    "style-src": [csp.constants.SELF, csp.constants.NONCE],
    "img-src": [csp.constants.SELF, "data:"],
    "object-src": [csp.constants.NONE],
    "base-uri": [csp.constants.SELF],
    "form-action": [csp.constants.SELF],
    "frame-ancestors": [csp.constants.NONE],
    "report-uri": env.str("DJANGO_CSP_REPORT_URI", default="") or None,
}
# The probes and the scrape answer JSON or text to machines, and /health/ping the same bytes
# with or without Django (health/fastpath.py): no policy there.
_csp = {"DIRECTIVES": _csp_directives, "EXCLUDE_URL_PREFIXES": ["/health/", "/metrics"]}
if env.bool("DJANGO_CSP_REPORT_ONLY", default=False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY = _csp
else:
    CONTENT_SECURITY_POLICY = _csp
# Without DEBUG the defaults are the production ones and `manage.py check --deploy` is clean;
# DJANGO_DEBUG=true (`make run`) turns off what plain http://127.0.0.1 cannot do. Anything that
# serves production settings over plain HTTP on purpose (docker compose, benchmarks, the test
# servers) sets DJANGO_SECURE_SSL_REDIRECT=false.

# Behind a proxy or ingress that terminates TLS and sets X-Forwarded-Proto (replacing any value a
# client sent): only then may the header say a request was HTTPS.
BEHIND_PROXY = env.bool("DJANGO_BEHIND_PROXY", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
# Kubelet probes and Prometheus scrapes speak plain HTTP to the pod: never redirect them.
# (Patterns match the path without its leading slash.)
SECURE_REDIRECT_EXEMPT = [r"^health(/|$)", r"^metrics/?$"]
# HSTS is sent on HTTPS responses only. A year, subdomains, preload: what browsers' preload
# lists require; lower DJANGO_SECURE_HSTS_SECONDS while first moving a domain to HTTPS.
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

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
    "DEFAULT_SCHEMA_CLASS": "common.schema.ProblemAutoSchema",
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

# --- Logging ----------------------------------------------------------------------------------
# One JSON object per line on stdout (observability/logging.py); LOG_FORMAT=text for humans.

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
LOG_FORMAT = env.str("LOG_FORMAT", default="json").lower()
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r}: expected json or text.")
# Probes and scrapes are frequent and uninteresting: no access line unless asked for.
ACCESS_LOG_PROBES = env.bool("ACCESS_LOG_PROBES", default=False)
PROBE_PATH_PREFIXES = ("/health/", "/health", "/metrics")
OTEL_SERVICE_NAME = env.str("OTEL_SERVICE_NAME", default="intelliflow-crm")

LOGGING = logging_config(
    level=LOG_LEVEL,
    log_format=LOG_FORMAT,
    service=OTEL_SERVICE_NAME,
    environment=DJANGO_ENV,
    version=VERSION,
)

# --- Login throttling (django-axes; accounts/) -------------------------------------------------
# Failed logins, on the admin and on POST /api/v1/auth/token/ alike, are counted in the database
# (shared by every worker and pod) per client address and per username; either reaching
# LOGIN_FAILURE_LIMIT within LOGIN_LOCKOUT_MINUTES locks it out until that long after its last
# counted failure. A locked-out attempt is refused before any password is hashed. Setting names
# as django-axes 8.3.1 reads them (axes/conf.py).

# Addresses (or networks) of our own reverse proxies, e.g. nginx: only a connection from one of
# them may name the client in X-Forwarded-For (accounts/client_ip.py). Empty: REMOTE_ADDR.
try:
    TRUSTED_PROXIES = [
        str(ipaddress.ip_network(proxy.strip()))
        for proxy in env.list("DJANGO_TRUSTED_PROXIES", default=[])
        if proxy.strip()
    ]
except ValueError as error:
    raise ImproperlyConfigured(f"DJANGO_TRUSTED_PROXIES: {error}") from None
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_LOCKOUT_MINUTES = env.int("LOGIN_LOCKOUT_MINUTES", default=15)
# Password checks (half a second of CPU each) at once per worker process; more attempts meanwhile
# are answered 429 at once (accounts/gate.py), so a flood cannot take every thread and core.
LOGIN_CONCURRENCY = env.int("LOGIN_CONCURRENCY", default=2)
if min(LOGIN_FAILURE_LIMIT, LOGIN_LOCKOUT_MINUTES, LOGIN_CONCURRENCY) < 1:
    raise ImproperlyConfigured(
        "LOGIN_FAILURE_LIMIT, LOGIN_LOCKOUT_MINUTES and LOGIN_CONCURRENCY must be at least 1."
    )

# AxesStandaloneBackend first: it refuses a locked-out attempt before ModelBackend hashes.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
# Each entry locks out on its own: the address, or the username, whichever reaches the limit.
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_CLIENT_IP_CALLABLE = "accounts.client_ip.client_address"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
# Attempts refused during a lockout are not recorded: retrying does not prolong the lockout,
# and a refusal updates no row.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# accounts.signals forgets a username's failures from the address it then logs in from, and no
# others (axes' own reset would also clear other usernames' failures from that address).
AXES_RESET_ON_SUCCESS = False
# No row per successful login (axes' access log), which would grow without bound; each user's
# last_login says when they last logged in.
AXES_DISABLE_ACCESS_LOG = True
# axes logs each failure (username and address masked, never the password) at WARNING, and
# accounts.signals each lockout; axes' INFO lines repeat every request's housekeeping.
LOGGING["loggers"]["axes"] = {"level": "WARNING"}

# --- Metrics (Prometheus) ----------------------------------------------------------------------
# /metrics answers Prometheus; with METRICS_TOKEN set it wants `Authorization: Bearer <token>`.
# Under gunicorn every worker writes to PROMETHEUS_MULTIPROC_DIR (gunicorn.conf.py sets it up).

METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_SAMPLE_SECONDS = env.float("METRICS_SAMPLE_SECONDS", default=5.0)
# The container's memory limit when no cgroup file says it (the memory alert divides by it).
MEMORY_LIMIT_BYTES = env.int("MEMORY_LIMIT_MB", default=0) * 1024 * 1024 or None
# Resolve the health targets (5-50 ms) and the 100 ms / 200 ms latency alert thresholds.
PROMETHEUS_LATENCY_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0,
    float("inf"),
)  # fmt: skip

# --- The bundled stack, for `manage.py check_observability --stack` -----------------------------

# Keyed by the docker-compose.yml service names, which the hints print.
OBSERVABILITY_STACK_URLS = {
    "otel-collector": env.str("OTEL_COLLECTOR_HEALTH_URL", default="http://localhost:13133/"),
    "prometheus": env.str("PROMETHEUS_URL", default="http://localhost:9090") + "/-/ready",
    "alertmanager": env.str("ALERTMANAGER_URL", default="http://localhost:9093") + "/-/ready",
    "loki": env.str("LOKI_URL", default="http://localhost:3100") + "/ready",
    "tempo": env.str("TEMPO_URL", default="http://localhost:3200") + "/ready",
    "grafana": env.str("GRAFANA_URL", default="http://localhost:3001") + "/api/health",
}
# Checked by default only when one of them is configured explicitly.
OBSERVABILITY_STACK_CONFIGURED = any(
    name in env for name in ("OTEL_COLLECTOR_HEALTH_URL", "PROMETHEUS_URL", "ALERTMANAGER_URL",
                             "LOKI_URL", "TEMPO_URL", "GRAFANA_URL")
)  # fmt: skip

# --- Tracing (OpenTelemetry) -------------------------------------------------------------------
# The OTEL_ENABLED switch (off unless set); the standard OTEL_SDK_DISABLED wins. Everything
# else is read by the SDK from the standard variables (OTEL_EXPORTER_OTLP_ENDPOINT,
# OTEL_TRACES_EXPORTER, OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG, OTEL_RESOURCE_ATTRIBUTES).

OTEL_SDK_DISABLED = env.bool("OTEL_SDK_DISABLED", default=False)
OTEL_ENABLED = env.bool("OTEL_ENABLED", default=False) and not OTEL_SDK_DISABLED
# Requests the Django instrumentation does not trace: comma-separated regular expressions
# searched in the full URL (its documented variables; the generic one applies to every
# instrumentation). By default the probes and /metrics, which are frequent and uninteresting.
OTEL_PYTHON_DJANGO_EXCLUDED_URLS = env.str(
    "OTEL_PYTHON_DJANGO_EXCLUDED_URLS",
    default=env.str("OTEL_PYTHON_EXCLUDED_URLS", default=r"/health(/|\?|$),/metrics(/|\?|$)"),
)

# --- Errors (Sentry) ---------------------------------------------------------------------------

SENTRY_ENABLED = env.bool("SENTRY_ENABLED", default=False)
SENTRY_DSN = env.str("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env.str("SENTRY_ENVIRONMENT", default=DJANGO_ENV)
# SENTRY_RELEASE, else the image's version, plus RELEASE_ID (image tag or commit) as build
# metadata when it is set to something else: intelliflow-crm@1.4.0+3f9c2ab.
SENTRY_RELEASE = env.str("SENTRY_RELEASE", default="") or (
    f"intelliflow-crm@{VERSION}" + (f"+{RELEASE_ID}" if RELEASE_ID != VERSION else "")
)
# The share of requests sent as Sentry transactions, in the OTel trace (observability/errors.py).
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0 if DEBUG else 0.1)
if not 0.0 <= SENTRY_TRACES_SAMPLE_RATE <= 1.0:
    raise ImproperlyConfigured(
        f"SENTRY_TRACES_SAMPLE_RATE={SENTRY_TRACES_SAMPLE_RATE}: expected 0 to 1."
    )
if SENTRY_ENABLED and SENTRY_DSN:
    from observability.errors import configure_error_reporting

    configure_error_reporting(
        dsn=SENTRY_DSN,
        environment=SENTRY_ENVIRONMENT,
        release=SENTRY_RELEASE,
        traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE,
    )
