"""OpenAPI generation: every operation documents the problem responses it can really give.

drf-spectacular documents success bodies from the views; `ProblemAutoSchema` adds the error
side once, from what DRF does for every API view (authentication, throttling, filtering,
pagination, parsing), so the schema cannot drift from the exception handler.
"""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from idempotency import api as idempotency
from intelliflow.problems import PROBLEM_CONTENT_TYPE


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details, as every API error is answered."""

    type = serializers.CharField(help_text="URI naming the kind of problem.")
    title = serializers.CharField(help_text="The HTTP status phrase.")
    status = serializers.IntegerField()
    detail = serializers.CharField(help_text="What went wrong with this request, for humans.")
    instance = serializers.CharField(help_text="The request path.")
    correlation_id = serializers.CharField(help_text="Quote it when asking about this request.")


class ValidationProblemSerializer(ProblemSerializer):
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Messages by field name; `non_field_errors` for the request as a whole.",
    )


class ImportProblemSerializer(ProblemSerializer):
    errors = serializers.DictField(
        child=serializers.DictField(child=serializers.ListField(child=serializers.CharField())),
        required=False,
        help_text="By row number (from 1), then messages by field name.",
    )


def problem_response(description: str, serializer=ProblemSerializer) -> OpenApiResponse:
    return OpenApiResponse(serializer, description=description)


UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

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


class ProblemAutoSchema(AutoSchema):
    def _unwrap_list_serializer(self, serializer, direction):
        # A list's bounds (ListSerializer min_length / max_length) are part of the contract.
        schema = super()._unwrap_list_serializer(serializer, direction)
        if schema and isinstance(serializer, serializers.ListSerializer):
            if serializer.min_length is not None:
                schema["minItems"] = serializer.min_length
            if serializer.max_length is not None:
                schema["maxItems"] = serializer.max_length
        return schema

    def _get_request_body(self, direction="request"):
        # Every POST of this API acts on what it sends (an import of nothing is a 400), even
        # where one media type alone ("text/csv": a string) would not say so.
        request_body = super()._get_request_body(direction)
        if request_body and self.method == "POST":
            request_body["required"] = True
        return request_body

    def _map_basic_serializer(self, serializer, direction):
        # A serializer that refuses unknown fields says so: additionalProperties false.
        schema = super()._map_basic_serializer(serializer, direction)
        if getattr(serializer, "refuses_unknown_fields", False):
            schema["additionalProperties"] = False
        return schema

    def _problem_responses(self) -> dict[int, OpenApiResponse]:
        view = self.view
        responses = {
            400: problem_response("Invalid input.", ValidationProblemSerializer),
        }
        if view.permission_classes:
            responses[401] = problem_response("No or invalid credentials.")
        if self.method in UNSAFE_METHODS:
            responses[403] = problem_response("Session authentication without a CSRF token.")
        if "{" in self.path or self._is_list_view():
            responses[404] = problem_response("No such lead, or no such page.")
        if self.method in {"POST", "PUT", "PATCH"}:
            responses[413] = problem_response("The request body is over the size limit.")
            responses[415] = problem_response("Unsupported request content type.")
        if view.throttle_classes:
            responses[429] = problem_response("Too many requests; see Retry-After.")
        if self._is_idempotent():
            responses[409] = problem_response(
                "A request with this Idempotency-Key is still in progress; retry later."
            )
            responses[422] = problem_response(
                "This Idempotency-Key was used for a different request."
            )
        responses[503] = problem_response("The database is unavailable; see Retry-After.")
        return responses

    def _is_idempotent(self) -> bool:
        action = getattr(self.view, "action", None)
        return getattr(getattr(self.view, action or "", None), "idempotent", False)

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        if self._is_idempotent():
            parameters = [*parameters, IDEMPOTENCY_KEY_PARAMETER]
        return parameters

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code, response in self._problem_responses().items():
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(response, str(code))
        for code, response in responses.items():
            # Error bodies are problem+json, whatever media types the success bodies use.
            content = response.get("content")
            if code >= "400" and content:
                response["content"] = {PROBLEM_CONTENT_TYPE: next(iter(content.values()))}
        return responses
