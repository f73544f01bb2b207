"""Login metrics, defined like observability/metrics.py's: module-level counters that under
gunicorn write to PROMETHEUS_MULTIPROC_DIR (summed over workers at the scrape).

Labels take values from closed sets (`ENDPOINTS`, `REASONS`): never a username or an address.
"""

from prometheus_client import Counter

ADMIN, TOKEN, OTHER = "admin", "token", "other"
ENDPOINTS = (ADMIN, TOKEN, OTHER)
# URL names of the login views → label value; any other authenticate() is "other".
ENDPOINT_BY_VIEW_NAME = {"admin:login": ADMIN, "auth-token": TOKEN}

LOGIN_FAILURES = Counter(
    "intelliflow_login_failures_total",
    "Failed logins (wrong credentials, or refused during a lockout), by endpoint.",
    ["endpoint"],
)
LOGIN_LOCKOUTS = Counter(
    "intelliflow_login_lockouts_total",
    "Failed logins that reached the failure limit, beginning a lockout (attempts checked "
    "concurrently may each reach it), by endpoint.",
    ["endpoint"],
)
# Why a login was refused without checking its password (no hash, no failure recorded).
LOCKED_OUT, BUSY = "locked_out", "busy"
REASONS = (LOCKED_OUT, BUSY)
LOGIN_REFUSED = Counter(
    "intelliflow_login_refused_total",
    "Logins refused without a password check, by endpoint and reason: the client or username "
    "is locked out, or the worker was already checking LOGIN_CONCURRENCY logins (busy).",
    ["endpoint", "reason"],
)


def endpoint_of(request) -> str:
    match = getattr(request, "resolver_match", None) if request is not None else None
    return ENDPOINT_BY_VIEW_NAME.get(match.view_name if match else "", OTHER)


def initialise() -> None:
    """Every series at 0 from the first scrape, so rate() and increase() see 0, not nothing."""
    for endpoint in ENDPOINTS:
        LOGIN_FAILURES.labels(endpoint)
        LOGIN_LOCKOUTS.labels(endpoint)
        for reason in REASONS:
            LOGIN_REFUSED.labels(endpoint, reason)
