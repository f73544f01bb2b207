"""The `Idempotency-Key` request header for DRF views that create: a retry gets the first answer.

`@idempotent` on a view method (draft-ietf-httpapi-idempotency-key-header):

- no header: the view runs as always;
- a key that is not 1-255 printable ASCII characters: 400;
- a key this user sent before, within IDEMPOTENCY_KEY_TTL, with the same method, path and
  body: the stored status, body and Location again, plus `Idempotent-Replayed: true`; the view
  does not run;
- the same key with other content: 422;
- the same key while its first request is still in progress: 409, retry later;
- otherwise the view runs in one transaction with the storing of its answer, so the writes and
  the stored answer commit together or not at all.

Only successes (2xx) are stored. A refused request (4xx) changes nothing, the key included, so the
client can correct the request and send it again with the same key.
"""

import functools
import hashlib
import json
import re
from http import HTTPStatus

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.http import QueryDict
from rest_framework.response import Response

from common.problems import ApplicationError, ConflictError
from idempotency import services

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_MAX_LENGTH = 255
KEY_PATTERN = r"[\x20-\x7e]"  # printable ASCII: nothing that could split a header or a log line
VALID_KEY = re.compile(f"{KEY_PATTERN}{{1,{KEY_MAX_LENGTH}}}")
# Response headers that belong to the answer (not to the exchange) and so are replayed.
REPLAYED_RESPONSE_HEADERS = ("Location", "Content-Location")


class InvalidIdempotencyKeyError(ApplicationError):
    type_slug = "invalid-idempotency-key"


class IdempotencyKeyReusedError(ApplicationError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    type_slug = "idempotency-key-reused"


class IdempotencyKeyInUseError(ConflictError):
    type_slug = "idempotency-key-in-use"


def _file_digest(upload) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)  # the view reads it next
    return digest.hexdigest()


def request_fingerprint(request) -> str:
    """SHA-256 of the method, path and *parsed* body: a multipart retry differs in its boundary,
    a JSON one perhaps in whitespace, and both are still the same request."""
    digest = hashlib.sha256(f"{request.method} {request.get_full_path()}\n".encode())
    data = request.data
    if isinstance(data, QueryDict):  # form or multipart: fields, and files by content
        fields = [
            [name, f"file:{_file_digest(value)}" if hasattr(value, "chunks") else value]
            for name in sorted(data)
            for value in data.getlist(name)
        ]
        digest.update(json.dumps(fields).encode())
    else:
        digest.update(json.dumps(data, sort_keys=True, separators=(",", ":"), default=str).encode())
    return digest.hexdigest()


def _replay(stored) -> Response:
    headers = {**stored.response_headers, REPLAYED_HEADER: "true"}
    return Response(
        json.loads(stored.response_body), status=stored.response_status, headers=headers
    )


def idempotent(view_method):
    @functools.wraps(view_method)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view_method(view, request, *args, **kwargs)
        if not VALID_KEY.fullmatch(key):
            raise InvalidIdempotencyKeyError(
                f"{HEADER} takes 1 to {KEY_MAX_LENGTH} printable ASCII characters, "
                "e.g. a UUID made for this one operation."
            )
        fingerprint = request_fingerprint(request)  # parses the body: a bad one is refused here
        with transaction.atomic():
            if not services.idempotency_key_lock(user=request.user, key=key):
                raise IdempotencyKeyInUseError(
                    f"A request with this {HEADER} is still in progress; retry in a moment."
                )
            stored = services.idempotency_key_find(user=request.user, key=key)
            if stored is not None:
                if stored.fingerprint != fingerprint:
                    raise IdempotencyKeyReusedError(
                        f"This {HEADER} was used for a different request; "
                        "make a new key for each operation."
                    )
                return _replay(stored)
            response = view_method(view, request, *args, **kwargs)
            if not 200 <= response.status_code < 300:
                transaction.set_rollback(True)  # refused: nothing changes, the key stays free
                return response
            try:
                services.idempotency_key_record(
                    user=request.user,
                    key=key,
                    fingerprint=fingerprint,
                    status=response.status_code,
                    body=json.dumps(response.data, cls=DjangoJSONEncoder),
                    headers={h: response[h] for h in REPLAYED_RESPONSE_HEADERS if h in response},
                )
            except IntegrityError:
                # Recorded by a request that did not take the lock (not on PostgreSQL): this
                # one's writes roll back with the exception.
                raise IdempotencyKeyInUseError(
                    f"Another request with this {HEADER} finished first; retry to get its answer."
                ) from None
        return response

    wrapper.idempotent = True  # read by common.schema.is_idempotent to document the header
    return wrapper
