"""Security: the Content-Security-Policy, HTTPS, HSTS, cookies and framing."""

import csp.constants

from intelliflow.settings.core import DEBUG
from intelliflow.settings.environment import env

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
