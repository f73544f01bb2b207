"""RFC 9457 problem details: the API's one error contract and its one handler.

Every error answered under /api/, /health and /metrics is `application/problem+json` carrying
`type`, `title`, `status`, `detail`, `instance` and `correlation_id`, plus `errors` for invalid
input: from DRF's handler, and from the handlers for what Django refuses before any view runs
(400, 403 CSRF, 404, 405, 500). People's pages (the admin, /status/) keep Django's HTML pages.
Domain code raises `ApplicationError` (or Django's `ValidationError`) and never builds responses.

An unavailable database (common.database.UNAVAILABLE_ERRORS) is a 503 with Retry-After,
from the DRF handler for the API and from `DatabaseUnavailableMiddleware` for plain views. It
is an outage, not a bug: one WARNING line per request (with the correlation ID) and no Sentry
event, so an outage is no storm of crash reports; the readiness probe, the 5xx rate and the
database alerts tell the story.
"""

import logging
import re
import sys
from functools import wraps
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.dispatch import Signal
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.views import csrf, defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework import views as drf_views
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error

from common import compat
from common.correlation import get_correlation_id
from common.database import UNAVAILABLE_ERRORS
from common.parsers import RequestBodyTooLarge

PROBLEM_CONTENT_TYPE = "application/problem+json"
VALIDATION_DETAIL = "The request has invalid fields; see errors."
UNAVAILABLE_DETAIL = "The database is not answering. Retry after the Retry-After seconds."
# About how long psycopg_pool takes to reconnect once the database is back.
RETRY_AFTER_SECONDS = 5
PAGES_FOR_PEOPLE = ("/admin/", "/status/")
# Where machines call: the API, the probes, the scrape. Every error there is a problem.
MACHINE_PATHS = re.compile(r"/(api|health|metrics)(/|$)")
SAFE_METHODS = ("GET", "HEAD")

logger = logging.getLogger(__name__)

# Sent (request=, exception=) when exception_handler answers an exception that Django's own
# exception handling never sees: a lost database, a 503 from DRF's handler. Observability
# counts it as django-prometheus would have (ObservabilityConfig.ready() connects it).
exception_answered = Signal()


class ApplicationError(Exception):
    """A domain rule refused the request. Subclasses set the HTTP status and problem type."""

    status = HTTPStatus.BAD_REQUEST
    type_slug = "invalid-request"

    def __init__(self, detail: str, *, errors: dict | None = None):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors


class ConflictError(ApplicationError):
    """The request is valid but clashes with the resource's current state (HTTP 409)."""

    status = HTTPStatus.CONFLICT
    type_slug = "conflict"


class PayloadTooLargeError(ApplicationError):
    """The request body is over the size this endpoint accepts (HTTP 413)."""

    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    type_slug = "payload-too-large"


def _body_too_large_detail() -> str:
    return f"A request body takes at most {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes here."


def answers_problems(request: HttpRequest) -> bool:
    return MACHINE_PATHS.match(request.path) is not None


def problem(
    request: HttpRequest,
    *,
    status: int,
    type_slug: str,
    detail: str,
    errors: dict | None = None,
) -> dict:
    """The problem body for `request`; `title` is the status phrase so each type keeps one title."""
    body = {
        "type": settings.PROBLEM_TYPE_BASE + type_slug,
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": request.path,
        "correlation_id": get_correlation_id(request),
    }
    if errors is not None:
        body["errors"] = errors
    return body


def _as_api_exception(exc: Exception) -> Exception:
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(as_serializer_error(exc))
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    # Django's own request limits, met while DRF reads the body.
    if isinstance(exc, RequestDataTooBig):
        return RequestBodyTooLarge(_body_too_large_detail())
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return exceptions.ParseError(str(exc))
    return exc


def exception_handler(exc: Exception, context: dict):
    """DRF's EXCEPTION_HANDLER: DRF's own handling (headers, status), re-shaped as a problem."""
    request = context["request"]
    if isinstance(exc, UNAVAILABLE_ERRORS):
        drf_views.set_rollback()
        _log_unavailable(request, exc)
        # DRF's Request, which reads through to Django's (its resolver_match names the view).
        exception_answered.send(sender=None, request=request, exception=exc)
        body = problem(
            request, status=503, type_slug="service-unavailable", detail=UNAVAILABLE_DETAIL
        )
        response = Response(body, status=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
        compat.mark_response_logged(response)  # our WARNING line replaces django.request's
    elif isinstance(exc, ApplicationError):
        body = problem(
            request,
            status=exc.status,
            type_slug=exc.type_slug,
            detail=exc.detail,
            errors=exc.errors,
        )
        response = Response(body, status=exc.status)
    else:
        exc = _as_api_exception(exc)
        response = drf_views.exception_handler(exc, context)
        if response is None:
            return None  # unhandled: Django's handler500 answers (and error reporting sees it)
        if isinstance(exc, exceptions.ValidationError):
            errors = (
                exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
            )
            body = problem(
                request,
                status=response.status_code,
                type_slug="validation-error",
                detail=VALIDATION_DETAIL,
                errors=errors,
            )
        else:
            body = problem(
                request,
                status=response.status_code,
                type_slug=str(exc.get_codes()).replace("_", "-"),
                detail=str(exc.detail),
            )
        response.data = body
    # The browsable API (DEBUG only) shows the problem in its HTML page, for people.
    if not isinstance(getattr(request, "accepted_renderer", None), BrowsableAPIRenderer):
        render_as_json(request)
        response.content_type = PROBLEM_CONTENT_TYPE
    return response


def render_as_json(request) -> None:
    """Have DRF render this request's answer with its JSON renderer, whatever was negotiated.

    DRF renders an error with the renderer it negotiated or, when negotiation itself failed (a
    406, or `?format=` naming no renderer), with the view's first one: YAML for the schema
    view, HTML for the docs, so a problem came out as YAML labelled problem+json."""
    request.accepted_renderer = JSONRenderer()
    request.accepted_media_type = PROBLEM_CONTENT_TYPE


def problem_json_response(request: HttpRequest, status: int, type_slug: str, detail: str):
    """A problem+json response for plain Django views (the API gets its own from DRF)."""
    body = problem(request, status=status, type_slug=type_slug, detail=detail)
    return JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE)


@csrf_exempt  # it changes nothing; a POST to a mistyped URL is a 404, not a CSRF page
def not_found(request: HttpRequest, path: str = ""):
    """The last route under each machine prefix: unknown URLs there are problems too, in DEBUG
    (whose 404 page ignores handler404) as in production."""
    return problem_json_response(request, 404, "not-found", "No such resource.")


def page_not_found(request: HttpRequest, exception: Exception):
    """handler404: a problem on machine paths, Django's page elsewhere."""
    if not answers_problems(request):
        return defaults.page_not_found(request, exception)
    return not_found(request)


def method_not_allowed(request: HttpRequest, allowed: list[str]) -> HttpResponse:
    """405 with Allow: a problem on machine paths (worded as DRF's), Django's empty one else."""
    if answers_problems(request):
        detail = f'Method "{request.method}" not allowed.'
        response = problem_json_response(request, 405, "method-not-allowed", detail)
    else:
        response = HttpResponseNotAllowed(allowed)
    response["Allow"] = ", ".join(allowed)
    return response


def read_only(view):
    """GET and HEAD only, for views that never change anything.

    CSRF-exempt: a forged request can only read what the caller may read anyway, and the CSRF
    check, which runs before the view, would answer every other method with a 403 instead of the
    405 that says what is wrong. The method check comes first, so nothing else runs for it."""

    @wraps(view)
    def safe_only(request: HttpRequest, *args, **kwargs):
        if request.method not in SAFE_METHODS:
            return method_not_allowed(request, list(SAFE_METHODS))
        return view(request, *args, **kwargs)

    return csrf_exempt(safe_only)


def csrf_failure(request: HttpRequest, reason: str = ""):
    """CSRF_FAILURE_VIEW: a problem on machine paths, worded as DRF's own CSRF refusal of a
    session write, so an API client meets one shape. Elsewhere (the admin's forms) Django's
    page, which tells a person what to do about their cookies."""
    if not answers_problems(request):
        return csrf.csrf_failure(request, reason)
    return problem_json_response(request, 403, "permission-denied", f"CSRF Failed: {reason}")


def bad_request(request: HttpRequest, exception: Exception):
    """handler400: Django refused the request before any view (a Host not allowed, a body over
    its limits). Machine clients get a problem too; the reason stays in the django.security
    log, since it may quote what the client sent."""
    if not answers_problems(request):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        return problem_json_response(request, 413, "payload-too-large", _body_too_large_detail())
    return problem_json_response(
        request, 400, "bad-request", "The request is malformed or over one of the server's limits."
    )


def _log_unavailable(request: HttpRequest, exc: Exception) -> None:
    # WARNING, not ERROR: Sentry's logging integration turns ERROR records into events.
    logger.warning(
        "database unavailable: %s %s answered 503",
        request.method,
        request.path,
        extra={
            "error.type": f"{type(exc).__module__}.{type(exc).__qualname__}",
            "exception.message": str(exc).strip().splitlines()[0][:300] if str(exc) else "",
        },
    )


def database_unavailable_response(request: HttpRequest) -> HttpResponse:
    """The 503 for plain Django views: a short page on people's pages, else a problem."""
    if not request.path.startswith(PAGES_FOR_PEOPLE):
        response = problem_json_response(request, 503, "service-unavailable", UNAVAILABLE_DETAIL)
    else:
        response = HttpResponse(
            "<!doctype html><title>Service Unavailable</title><h1>Service Unavailable</h1>"
            "<p>The database is not answering. Try again in a few seconds.</p>",
            status=503,
        )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailableMiddleware:
    """Plain Django views (admin, status page): an unavailable database is a 503, not a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if isinstance(exception, UNAVAILABLE_ERRORS):
            _log_unavailable(request, exception)
            response = database_unavailable_response(request)
            compat.mark_response_logged(response)  # our WARNING replaces django.request's ERROR
            return response
        return None


def server_error(request: HttpRequest):
    """handler500: never a stack trace; machine clients get a problem with their correlation ID."""
    error = sys.exc_info()[1]
    if isinstance(error, UNAVAILABLE_ERRORS):
        # Raised outside a view (a middleware): already logged and reported as unhandled.
        return database_unavailable_response(request)
    if answers_problems(request):
        return problem_json_response(
            request,
            500,
            "server-error",
            "The server failed to complete the request. Quote the correlation_id when reporting.",
        )
    return defaults.server_error(request)
