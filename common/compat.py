"""The app's reaches into Django's private names on the request path, each one version-guarded.

The other reaches past a library's public API are each tested against the pinned release
instead: CompiledLookup (common/database.py) reads SQLCompiler's parts a QuerySet's iterator
uses; the PostgreSQL backend (common/db/postgresql) builds on Django's adapters template and
the `timezone` its create_cursor() compares; the settings list the middleware of
opentelemetry-instrumentation-django by its class path, and observability/tracing.py keeps its
instrumentor from writing settings. Everything else uses public API.

What is here has no public equivalent that does the same job at the same cost; each entry
says what is missing upstream and what it saves. Each is written against one exact release
(`WRITTEN_FOR`). On any other release the hack is off and the public fallback runs (never an
AttributeError on the request path); `ACTIVE` says which are on, and
tests/common/test_compat.py fails loudly until someone re-reads the upstream code and moves
the pin (or deletes the hack because upstream grew the feature).

The measured savings are reproduced by tests/common/test_compat.py (`test_saving_*`
time the private and the public path side by side in one run; `-s` prints the figures).
"""

import logging
from importlib.metadata import version

from django.utils.functional import SimpleLazyObject, empty

logger = logging.getLogger(__name__)

# The exact upstream releases the hacks below were read against (requirements.txt pins them).
WRITTEN_FOR = {"django": "5.2.19"}


def _on(distribution: str, hack: str) -> bool:
    installed = version(distribution)
    if installed == WRITTEN_FOR[distribution]:
        return True
    logger.warning(
        "compat: %s %s is installed, %s was written for %s; using the public fallback",
        distribution,
        installed,
        hack,
        WRITTEN_FOR[distribution],
    )
    return False


# --- Django: a lazy object's value, only if something already evaluated it -----------------
#
# Missing upstream: SimpleLazyObject has no public "is it evaluated?" / "value if evaluated".
# AuthenticationMiddleware makes `request.user` such an object; DRF replaces it with the real
# user once it authenticates, the admin evaluates it in place. The access log and error
# reports want the user id only if the request already resolved it: resolving it themselves
# would cost a session read and a user query per request that never needed the user, and on
# a request that failed because the database is down, another wait on the database (bounded,
# seconds) and an exception inside the logging path.
# Measured (test_compat.py::test_saving_of_resolved_user, PostgreSQL on localhost, a session
# cookie, 200 requests each): this check 0.6-1.0 us; the public path (evaluate `request.user`)
# 1.7-1.9 ms and two queries (session, user): x1700-3000.
# Fallback: a user still lazy counts as not resolved (the admin's lines lose user.id).

RESOLVED_USER_ACTIVE = _on("django", "resolved_user")


def resolved_user(request):
    """`request.user` if the request already resolved it, else None; never resolves it."""
    user = request.__dict__.get("user")
    if isinstance(user, SimpleLazyObject):
        if not RESOLVED_USER_ACTIVE:
            return None
        wrapped = user._wrapped
        return None if wrapped is empty else wrapped
    return user


# --- Django: "this error response is logged already" ----------------------------------------
#
# Missing upstream: no public way to tell django.request that the app logged a response
# itself. Django's handler logs every 4xx/5xx response on django.request (5xx as ERROR, which
# Sentry's logging integration turns into an event) unless `response._has_been_logged`, the
# flag log_response() sets on the responses it logged. The app answers a lost database (503)
# and a failing probe (503) with one WARNING line naming the cause; without the flag each
# such request also gets django.request's ERROR line (and, under Sentry, an event per
# request for as long as the database is down).
# Public alternative: a filter on the django.request logger that drops records of requests
# the app marked. It costs nothing measurable either (a function call per 4xx/5xx record), so
# the saving here is not time: it is that the public route needs a marker threaded from the
# three call sites (the probe helper has no request) plus a filter in the logging
# configuration gunicorn shares, against one attribute Django itself sets for this purpose.
# Fallback: the flag is not set; django.request's line comes back next to ours.

RESPONSE_LOGGED_ACTIVE = _on("django", "mark_response_logged")


def mark_response_logged(response) -> None:
    """Tell Django's handler not to log this response on django.request: the app did."""
    if RESPONSE_LOGGED_ACTIVE:
        response._has_been_logged = True


ACTIVE = {
    "resolved_user": RESOLVED_USER_ACTIVE,
    "mark_response_logged": RESPONSE_LOGGED_ACTIVE,
}
