"""Two WSGI-level repairs around Django, for what arrives before any middleware runs.

- `ChunkedRequestBody`: a body sent with `Transfer-Encoding: chunked` has no Content-Length,
  and Django reads a request without one as empty (a valid lead would be answered 400
  "required"). The body is read here, up to the largest body any endpoint accepts plus one
  byte, and handed to Django with its length; a larger one then meets Django's and the
  parsers' own limits (413) like any other.
- `NoBodyForHead`: Django answers HEAD with the GET body, which the server must not send
  (gunicorn drops it and warns on every request). The body is dropped here; the headers,
  Content-Length included, stay those of GET, as HTTP wants.
"""

import io

from django.conf import settings


class ChunkedRequestBody:
    def __init__(self, application):
        self.application = application
        self.limit = max(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0, settings.LEAD_IMPORT_MAX_BYTES)

    def __call__(self, environ, start_response):
        if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower() and not environ.get(
            "CONTENT_LENGTH"
        ):
            body = environ["wsgi.input"].read(self.limit + 1)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return self.application(environ, start_response)


class NoBodyForHead:
    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        result = self.application(environ, start_response)
        if environ.get("REQUEST_METHOD") != "HEAD":
            return result
        close = getattr(result, "close", None)
        if close is not None:
            close()  # Django's request_finished signal, the access line's end
        return []
