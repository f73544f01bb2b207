"""Core: debug mode, the secret key, hosts, the apps, URLs and templates; auth, i18n and static
files. MIDDLEWARE is in middleware.py, composed from the switches of metrics.py and tracing.py."""

import warnings
from pathlib import Path

from intelliflow import __version__
from intelliflow.settings.environment import env

BASE_DIR = Path(__file__).resolve().parent.parent.parent

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
