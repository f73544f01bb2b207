"""The lead endpoints: DRF plumbing around the services (writes) and selectors (reads)."""

from django.conf import settings
from django.http import Http404, StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import parsers, status, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.settings import api_settings

from common import parsers as api_parsers
from common.problems import PayloadTooLargeError
from common.schema import ImportProblemSerializer, problem_response
from idempotency.api import idempotent
from leads import csv_io, selectors, services
from leads.api import renderers
from leads.api.filters import LeadFilter
from leads.api.serializers import (
    LeadImportResultSerializer,
    LeadImportRowSerializer,
    LeadImportUploadSerializer,
    LeadReadSerializer,
    LeadSerializer,
    LeadStatsSerializer,
    LeadTransitionSerializer,
)
from leads.models import Lead


class LeadCSVParser(parsers.BaseParser):
    """`Content-Type: text/csv` request bodies, for imports sent without multipart."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        return csv_io.read_lead_rows(_read_capped(stream))


class LeadImportMultiPartParser(api_parsers.MultiPartParser):
    """An import file of up to LEAD_IMPORT_MAX_BYTES, plus room for the multipart envelope."""

    @property
    def max_bytes(self) -> int:
        return settings.LEAD_IMPORT_MAX_BYTES + 64 * 1024


def _read_capped(stream) -> bytes:
    data = stream.read(settings.LEAD_IMPORT_MAX_BYTES + 1) if stream else b""
    if len(data) > settings.LEAD_IMPORT_MAX_BYTES:
        raise PayloadTooLargeError(
            f"An import file takes at most {settings.LEAD_IMPORT_MAX_BYTES} bytes. Split it."
        )
    return data


CONFLICT = {409: problem_response("The lead's state does not allow this.")}
READ_ACTIONS = frozenset({"list", "retrieve"})


# list and retrieve answer with LeadReadSerializer, which represents a lead exactly as
# LeadSerializer does; the schema names LeadSerializer, as it always has.
@extend_schema_view(
    list=extend_schema(
        summary="List live leads (filter, search, order, paginate)", responses=LeadSerializer
    ),
    create=extend_schema(
        summary="Create a lead",
        parameters=[
            OpenApiParameter(
                "Location",
                OpenApiTypes.URI,
                OpenApiParameter.HEADER,
                description="The new lead's URL (replayed with the answer for an Idempotency-Key).",
                response=[201],
            )
        ],
    ),
    retrieve=extend_schema(summary="Get a lead", responses=LeadSerializer),
    update=extend_schema(summary="Replace a lead's editable fields"),
    partial_update=extend_schema(summary="Change some of a lead's editable fields"),
    destroy=extend_schema(summary="Soft-delete a lead (restore brings it back)"),
)
class LeadViewSet(viewsets.ModelViewSet):
    serializer_class = LeadSerializer
    # DRF's renderers, with its JSON renderer encoding through orjson (renderers.py).
    renderer_classes = [
        renderers.JSONRenderer if renderer is JSONRenderer else renderer
        for renderer in api_settings.DEFAULT_RENDERER_CLASSES
    ]
    lookup_value_converter = "uuid"  # a malformed id is a 404 before any query
    filterset_class = LeadFilter
    search_fields = ["first_name", "last_name", "email", "company"]
    ordering_fields = ["created_at", "updated_at", "score", "last_name"]
    ordering = ["-created_at"]

    def get_queryset(self):
        return selectors.lead_list(include_deleted=self.action == "restore")

    def get_serializer_class(self):
        # Reads take the serializer whose fields are built once per class (serializers.py);
        # writes validate with LeadSerializer and answer with its representation.
        if self.action in READ_ACTIONS:
            return LeadReadSerializer
        return LeadSerializer

    def get_object(self):
        # DRF's get_object() filters get_queryset() by the URL's id and checks the object's
        # permissions. For the live leads (every detail action but restore) the lookup is the
        # selector's, whose SQL is compiled once: the same row of the same queryset
        # (selectors.lead_list()), without building and compiling it for each request.
        if self.action == "restore":
            return super().get_object()
        try:
            lead = selectors.lead_get(lead_id=self.kwargs[self.lookup_url_kwarg or "pk"])
        except Lead.DoesNotExist:
            raise Http404 from None
        self.check_object_permissions(self.request, lead)
        return lead

    def filter_queryset(self, queryset):
        # The filter backends (django-filter, search, ordering) read the query string of a
        # list: only list, stats and export apply them. DRF's get_object() runs them for the
        # detail actions too (retrieve, update, transition, ...), where django-filter built and
        # validated its whole form to narrow one row by id (a sixth of a retrieve), and where
        # `?status=lost` could make an existing lead a 404. Skipping them there is safe: the
        # backends only narrow lists; the lookup is by the URL's id in get_queryset()'s live
        # (or, for restore, all) leads, and permissions rely on none of them.
        if self.detail:
            return queryset
        return super().filter_queryset(queryset)

    @idempotent
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    def get_success_headers(self, data):
        # DRF's default takes Location from a `url` field, which leads do not have; a 201 says
        # where the new lead is (RFC 9110), and @idempotent stores it for replays.
        return {"Location": reverse("lead-detail", kwargs={"pk": data["id"]}, request=self.request)}

    def perform_create(self, serializer):
        serializer.instance = services.lead_create(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.lead_update(
            lead=serializer.instance, actor=self.request.user, data=serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.lead_soft_delete(lead=instance, actor=self.request.user)

    @extend_schema(
        summary="Move a lead along the status pipeline",
        request=LeadTransitionSerializer,
        responses={200: LeadSerializer, **CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        serializer = LeadTransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        lead = services.lead_transition(
            lead=self.get_object(),
            actor=request.user,
            to_status=serializer.validated_data["status"],
        )
        return Response(LeadReadSerializer(lead).data)

    @extend_schema(
        summary="Restore a soft-deleted lead",
        request=None,
        responses={200: LeadSerializer, **CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        lead = services.lead_restore(lead=self.get_object(), actor=request.user)
        return Response(LeadReadSerializer(lead).data)

    @extend_schema(
        summary="Import leads, all or nothing",
        description=(
            f"A JSON array of up to {settings.LEAD_IMPORT_MAX_ROWS} leads, or a UTF-8 CSV file "
            "(multipart field `file`, or a `text/csv` body) whose header names lead fields. "
            "Either every row is created (201) or none is (400, `errors` keyed by row number "
            "from 1, then by field)."
        ),
        request={
            "application/json": LeadImportRowSerializer(
                many=True, min_length=1, max_length=settings.LEAD_IMPORT_MAX_ROWS
            ),
            "multipart/form-data": LeadImportUploadSerializer,
            "text/csv": OpenApiTypes.STR,
        },
        responses={
            201: LeadImportResultSerializer,
            400: problem_response("Nothing was imported; see errors.", ImportProblemSerializer),
            409: problem_response(
                "A concurrent write took one of the e-mail addresses, or a request with this "
                "Idempotency-Key is still in progress."
            ),
            413: problem_response("The upload is too large."),
        },
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[api_parsers.JSONParser, LeadImportMultiPartParser, LeadCSVParser],
    )
    @idempotent
    def import_leads(self, request):
        if request.content_type.startswith("multipart/"):
            upload = request.FILES.get("file")
            if upload is None:
                raise services.LeadImportError("Send the CSV file in the multipart field `file`.")
            rows = csv_io.read_lead_rows(_read_capped(upload))
        else:
            rows = request.data
            if not isinstance(rows, list):
                raise services.LeadImportError(
                    "Send a JSON array of leads, or a CSV file with a header line."
                )
        leads = services.lead_import(actor=request.user, rows=rows)
        body = {"created": len(leads), "ids": [lead.pk for lead in leads]}
        return Response(LeadImportResultSerializer(body).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Lead counts by status and source", responses=LeadStatsSerializer)
    @action(detail=False, methods=["get"], pagination_class=None)
    def stats(self, request):
        stats = selectors.lead_stats(leads=self.filter_queryset(self.get_queryset()))
        return Response(LeadStatsSerializer(stats).data)

    @extend_schema(
        summary="Export the (filtered) lead list as CSV",
        description=(
            "Streamed; cells a spreadsheet could run as a formula (starting with = + - @ | tab "
            "or CR, also after leading spaces or invisible characters, or in fullwidth) are "
            "prefixed with ' (formula safety)."
        ),
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV file")},
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def export(self, request):
        leads = self.filter_queryset(self.get_queryset())
        response = StreamingHttpResponse(
            csv_io.write_lead_rows(leads.iterator(chunk_size=500)),
            content_type="text/csv; charset=utf-8",
        )
        filename = f"leads-{timezone.now():%Y%m%d-%H%M%S}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def perform_content_negotiation(self, request, force=False):
        # The export answers CSV whatever Accept says; its errors still render as JSON.
        return super().perform_content_negotiation(request, force=force or self.action == "export")
