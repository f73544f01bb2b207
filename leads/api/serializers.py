"""Lead API representations. Thin: they shape and type-check; services.py enforces the rules."""

import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from rest_framework import serializers

from leads.emails import CanonicalEmailField, canonical_email, require_ascii_domain
from leads.models import EDITABLE_FIELDS, Lead, LeadStatus


class UTCDateTimeField(serializers.DateTimeField):
    """Timestamps in UTC (TIME_ZONE is UTC), without DRF looking up the active time zone for
    every value: that lookup (an asgiref Local) was a sixth of a 50-lead page's serialisation."""

    def default_timezone(self):
        return datetime.UTC


class CanonicalEmailSerializerField(serializers.EmailField):
    """An e-mail in the form the lead stores (leads.emails), validated in that form: a
    fullwidth or IDN spelling is accepted as the address it stands for."""

    def to_internal_value(self, data):
        value = canonical_email(super().to_internal_value(data))
        try:
            require_ascii_domain(value)
        except DjangoValidationError:
            self.fail("invalid")
        return value


class LeadSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: UTCDateTimeField,
        CanonicalEmailField: CanonicalEmailSerializerField,
    }
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
