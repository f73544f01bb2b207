"""The leads' additions to the OpenAPI schema, through drf-spectacular's extension points.
LeadsConfig.ready() imports this module, which registers them before any schema is made."""

from drf_spectacular.extensions import OpenApiSerializerExtension


class RefusesUnknownFields(OpenApiSerializerExtension):
    """An import row refuses any key but the editable fields: additionalProperties false."""

    target_class = "leads.api.serializers.LeadImportRowSerializer"

    def map_serializer(self, auto_schema, direction):
        schema = super().map_serializer(auto_schema, direction)
        if getattr(self.target, "refuses_unknown_fields", False):
            schema["additionalProperties"] = False
        return schema
