"""Lead API representations. Thin: they shape and type-check; services.py enforces the rules."""

from django.contrib.auth import get_user_model
from rest_framework import serializers

from leads.models import EDITABLE_FIELDS, Lead, LeadStatus


class LeadSerializer(serializers.ModelSerializer):
    owner = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(is_active=True),
        allow_null=True,
        required=False,
    )
    allowed_transitions = serializers.ListField(
        child=serializers.ChoiceField(choices=LeadStatus.choices),
        read_only=True,
        help_text="Statuses this lead may move to next (empty once converted).",
    )

    class Meta:
        model = Lead
        fields = [
            "id",
            *EDITABLE_FIELDS,
            "status",
            "allowed_transitions",
            "created_at",
            "updated_at",
            "converted_at",
            "created_by",
            "updated_by",
        ]
        read_only_fields = [
            "id",
            "status",
            "created_at",
            "updated_at",
            "converted_at",
            "created_by",
            "updated_by",
        ]
        # Uniqueness is the service's job (it is case-insensitive and ignores deleted leads).
        validators = []


class LeadTransitionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=LeadStatus.choices)


class LeadImportRowSerializer(LeadSerializer):
    """One row of an import, for the schema: the editable fields only (lead_import refuses
    any other key, and the schema says so)."""

    refuses_unknown_fields = True

    class Meta(LeadSerializer.Meta):
        fields = list(EDITABLE_FIELDS)
        read_only_fields = []


class LeadImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A UTF-8 CSV file whose header names lead fields.")


class LeadImportResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    ids = serializers.ListField(child=serializers.UUIDField())


class LeadStatsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    by_status = serializers.DictField(child=serializers.IntegerField())
    by_source = serializers.DictField(child=serializers.IntegerField())
