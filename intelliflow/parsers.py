"""Request body parsers that keep the API's limits: bad or oversized input is a 4xx, never a 500.

DRF reads JSON and form bodies through Django's `request.body`, which already refuses more than
DATA_UPLOAD_MAX_MEMORY_SIZE (problems.py answers 413). Two gaps remain, closed here:
JSON nested deeper than Python's recursion limit raised RecursionError (a 500), and Django
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
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from None


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
