"""OpenAPI generation: every operation documents the problem responses it can really give.

drf-spectacular documents success bodies from the views; `ProblemAutoSchema` adds the error
side once, from what DRF does for every API view (authentication, throttling, filtering,
pagination, parsing), so the schema cannot drift from the exception handler.

Public extension points only: `AutoSchema.get_operation` (the finished operation, completed
here), `get_request_serializer`, `map_parsers` and `resolve_serializer`. The apps extend it
where they own what is documented: idempotency/schema.py subclasses it for the
Idempotency-Key header (the class settings name), leads/api/schema.py holds the import row's
serializer extension.
"""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiRequest, OpenApiResponse
from rest_framework import serializers
from rest_framework.mixins import ListModelMixin

from common.problems import PROBLEM_CONTENT_TYPE


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


def problem_responses(schema: AutoSchema) -> dict[int, OpenApiResponse]:
    """The problem responses DRF can give for this operation, whatever the view declares."""
    view, method = schema.view, schema.method
    action = getattr(view, "action", None)
    # A list's page number can name no page (DRF's paginator answers 404).
    is_list = action == "list" if action else method == "GET" and isinstance(view, ListModelMixin)
    responses = {
        400: problem_response("Invalid input.", ValidationProblemSerializer),
    }
    if view.permission_classes:
        responses[401] = problem_response("No or invalid credentials.")
    if method in UNSAFE_METHODS:
        responses[403] = problem_response("Session authentication without a CSRF token.")
    if "{" in schema.path or is_list:
        responses[404] = problem_response("No such lead, or no such page.")
    if method in {"POST", "PUT", "PATCH"}:
        responses[413] = problem_response("The request body is over the size limit.")
        responses[415] = problem_response("Unsupported request content type.")
    if view.throttle_classes:
        responses[429] = problem_response("Too many requests; see Retry-After.")
    if is_idempotent(view):
        responses[409] = problem_response(
            "A request with this Idempotency-Key is still in progress; retry later."
        )
        responses[422] = problem_response("This Idempotency-Key was used for a different request.")
    responses[503] = problem_response("The database is unavailable; see Retry-After.")
    return responses


def is_idempotent(view) -> bool:
    """The view method carries `idempotent = True` (idempotency.api's decorator sets it)."""
    action = getattr(view, "action", None)
    return getattr(getattr(view, action or "", None), "idempotent", False)


def request_serializers(schema: AutoSchema) -> dict:
    """The request serializer by media type, as drf-spectacular pairs them."""
    serializer = schema.get_request_serializer()
    if isinstance(serializer, dict):
        pairs = serializer.items()
    else:
        pairs = ((media_type, serializer) for media_type in schema.map_parsers())
    return {
        media_type: serializer.request if isinstance(serializer, OpenApiRequest) else serializer
        for media_type, serializer in pairs
    }


class ProblemAutoSchema(AutoSchema):
    """drf-spectacular's schema of an operation, completed through public methods only."""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        request_body = operation.get("requestBody")
        if request_body:
            self.complete_request_body(request_body)
        self.complete_responses(operation["responses"])
        return operation

    def complete_request_body(self, request_body: dict) -> None:
        # Every POST of this API acts on what it sends (an import of nothing is a 400), even
        # where one media type alone ("text/csv": a string) would not say so.
        if self.method == "POST":
            request_body["required"] = True
        # A list's bounds (ListSerializer min_length / max_length) are part of the contract.
        for media_type, serializer in request_serializers(self).items():
            content = request_body["content"].get(media_type)
            if content is None or not isinstance(serializer, serializers.ListSerializer):
                continue
            if serializer.min_length is not None:
                content["schema"]["minItems"] = serializer.min_length
            if serializer.max_length is not None:
                content["schema"]["maxItems"] = serializer.max_length

    def complete_responses(self, responses: dict) -> None:
        for code, response in problem_responses(self).items():
            if str(code) not in responses:
                component = self.resolve_serializer(response.response(), "response")
                responses[str(code)] = {
                    "content": {PROBLEM_CONTENT_TYPE: {"schema": component.ref}},
                    "description": response.description,
                }
        for code, response in responses.items():
            # Error bodies are problem+json, whatever media types the success bodies use.
            content = response.get("content")
            if code >= "400" and content:
                response["content"] = {PROBLEM_CONTENT_TYPE: next(iter(content.values()))}
