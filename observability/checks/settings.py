"""Settings findings: DEBUG, the secret key, ALLOWED_HOSTS and the static files storage."""

from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from observability.checks.base import FAIL, PASS, WARN, Finding, production


def check_settings() -> list[Finding]:
    found = []
    env = settings.DJANGO_ENV
    if settings.DEBUG and env != "development":
        found.append(
            Finding(
                "settings",
                "debug",
                FAIL,
                f"DEBUG is on in {env!r}",
                "Set DJANGO_DEBUG=false outside development.",
            )
        )
    else:
        found.append(Finding("settings", "debug", PASS, f"DEBUG={settings.DEBUG} in {env!r}"))
    try:
        secret_key = settings.SECRET_KEY
    except ImproperlyConfigured:  # Django refuses an empty key on access
        secret_key = ""
    if not secret_key:
        found.append(
            Finding(
                "settings",
                "secret key",
                FAIL,
                "DJANGO_SECRET_KEY is not set: the app refuses to serve",
                settings.SECRET_KEY_MISSING,
            )
        )
    elif production() and len(secret_key) < 32:
        found.append(
            Finding(
                "settings",
                "secret key",
                WARN,
                "secret key shorter than 32 chars",
                "Use a long random DJANGO_SECRET_KEY.",
            )
        )
    else:
        found.append(Finding("settings", "secret key", PASS, "set"))
    hosts = settings.ALLOWED_HOSTS
    if production() and "*" in hosts:
        found.append(
            Finding(
                "settings",
                "allowed hosts",
                WARN,
                "'*' accepts any Host header",
                "List the real host names in DJANGO_ALLOWED_HOSTS.",
            )
        )
    elif production() and not hosts:
        found.append(
            Finding(
                "settings",
                "allowed hosts",
                FAIL,
                "empty: every request gets 400",
                "Set DJANGO_ALLOWED_HOSTS.",
            )
        )
    else:
        found.append(Finding("settings", "allowed hosts", PASS, ", ".join(hosts) or "(debug)"))
    found.append(static_files_finding())
    return found


def static_files_finding() -> Finding:
    """The static storage DJANGO_STATIC_MANIFEST chose, and whether collectstatic ran for it."""
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if settings.STATIC_MANIFEST and not manifest.is_file():
        return Finding(
            "settings",
            "static files",
            FAIL,
            f"DJANGO_STATIC_MANIFEST is on but {manifest} is missing: pages fail to render",
            "Run `manage.py collectstatic --noinput` with the same settings (the image does).",
        )
    if settings.STATIC_MANIFEST:
        return Finding("settings", "static files", PASS, f"hashed and compressed, {manifest}")
    if production():
        return Finding(
            "settings",
            "static files",
            WARN,
            "served from the apps: unhashed names cached 60 s, nothing precompressed",
            "Set DJANGO_STATIC_MANIFEST=true and run collectstatic (the container image does).",
        )
    return Finding("settings", "static files", PASS, "served from the apps (development)")
