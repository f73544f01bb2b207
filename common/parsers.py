"""Request body parsers that keep the API's limits: bad or oversized input is a 4xx, never a 500.

DRF reads JSON and form bodies through Django's `request.body`, which already refuses more than
DATA_UPLOAD_MAX_MEMORY_SIZE (problems.py answers 413). Three gaps remain, closed here:
JSON nested deeper than Python's recursion limit raised RecursionError (a 500), a lone UTF-16
surrogate in any string failed later as a 500 (it cannot be encoded as UTF-8), and Django
leaves multipart *file* parts out of DATA_UPLOAD_MAX_MEMORY_SIZE, so an upload of any size was
received, and spooled to disk, before a view could refuse it.
"""

from http import HTTPStatus

from django.conf import settings
from rest_framework import exceptions, parsers


class RequestBodyTooLarge(exceptions.APIException):
    """A body over the size limit (HTTP 413), refused before or while it is read."""

    status_code = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is over the size limit."
    default_code = "payload_too_large"


def content_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0  # Django reads no body without a usable Content-Length either


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from None
        if _has_lone_surrogate(data):
            # JSON allows "\ud800"; UTF-8 cannot encode it, so any field holding one (a
            # choice, an import row) would fail later, when echoed back or stored: a 500.
            raise exceptions.ParseError(
                "JSON parse error - a string holds a lone UTF-16 surrogate (\\ud800-\\udfff)."
            )
        return data


def _has_lone_surrogate(value) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(item) for item in value)
    return False


class MultiPartParser(parsers.MultiPartParser):
    """Refuses a body over `max_bytes` by its Content-Length, before reading any of it."""

    @property
    def max_bytes(self) -> int:
        return settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    def parse(self, stream, media_type=None, parser_context=None):
        length = content_length(parser_context["request"])
        if length > self.max_bytes:
            raise RequestBodyTooLarge(
                f"This request body takes at most {self.max_bytes} bytes; this one has {length}."
            )
        return super().parse(stream, media_type, parser_context)
