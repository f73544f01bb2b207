"""The `Idempotency-Key` header in the OpenAPI schema, for the operations that take it.

`IdempotencyAutoSchema` is the project's schema class (REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]):
common.schema's `ProblemAutoSchema`, plus the header parameter on every `@idempotent` view
method.
"""

from drf_spectacular.utils import OpenApiParameter

from common.schema import ProblemAutoSchema, is_idempotent
from idempotency import api as idempotency

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    name=idempotency.HEADER,
    location=OpenApiParameter.HEADER,
    required=False,
    type={
        "type": "string",
        "minLength": 1,
        "maxLength": idempotency.KEY_MAX_LENGTH,
        "pattern": f"^{idempotency.KEY_PATTERN}+$",
    },
    description=(
        "Makes a retry safe: a new key (e.g. a UUID) per operation. Sent again within 24 hours "
        "with the same request, the first successful answer comes back (status, body, "
        f"Location) with `{idempotency.REPLAYED_HEADER}: true`, and nothing is written again. "
        "Refused requests are not remembered: correct them and send the same key."
    ),
)


class IdempotencyAutoSchema(ProblemAutoSchema):
    """The problem responses, and the Idempotency-Key header where the view takes it."""

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        if is_idempotent(self.view):
            parameters = [*parameters, IDEMPOTENCY_KEY_PARAMETER]
        return parameters
