"""Lead API representations. Thin: they shape and type-check; services.py enforces the rules."""

import datetime
import operator

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.signals import setting_changed
from django.db import models
from django.dispatch import receiver
from rest_framework import relations, serializers
from rest_framework.settings import ISO_8601, api_settings

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


def _utc_iso_8601(field: serializers.DateTimeField):
    """`field.to_representation` for an aware datetime, as DRF writes it (ISO 8601 in UTC, "Z"
    for +00:00), without its per-call settings and time zone look-ups."""

    def represent(value):
        if type(value) is datetime.datetime:
            if value.tzinfo is datetime.UTC:  # as psycopg hands them over (TIME_ZONE is UTC)
                return value.isoformat()[:-6] + "Z"
            if value.utcoffset() is not None:
                try:
                    text = value.astimezone(datetime.UTC).isoformat()
                except OverflowError:
                    return field.to_representation(value)  # DRF's "out of range" error
                return text[:-6] + "Z" if text.endswith("+00:00") else text
        return field.to_representation(value)  # naive, or not a datetime: DRF's own way

    return represent


def _choice(field: serializers.ChoiceField):
    """`field.to_representation`: a look-up in the field's choices, bound to nothing else. A
    plain non-empty string (what the database hands over) goes straight to the look-up DRF
    ends with; anything else (an Enum, "") takes DRF's own way."""
    choices = field.choice_strings_to_values

    def represent(value):
        if type(value) is str and value:
            return choices.get(value, value)
        return field.to_representation(value)

    return represent


def _converter(field: serializers.Field):
    """A function giving what `field.to_representation(value)` gives for any value that is not
    None, or None when this field's representation may depend on more than the value (its
    serializer's context or instance): those take DRF's way."""
    representation = type(field).to_representation
    if representation is serializers.CharField.to_representation:  # EmailField too
        return str
    if representation is serializers.IntegerField.to_representation:
        return int
    if representation is serializers.UUIDField.to_representation:
        return str if field.uuid_format == "hex_verbose" else field.to_representation
    if representation is serializers.ChoiceField.to_representation:
        return _choice(field)
    if (
        representation is serializers.DateTimeField.to_representation
        and getattr(field, "format", api_settings.DATETIME_FORMAT) == ISO_8601
        and getattr(field, "timezone", None) is None
        and field.default_timezone() is datetime.UTC
    ):
        return _utc_iso_8601(field)
    if representation is serializers.ListField.to_representation:
        child = _converter(field.child)
        if child is None:
            return None
        return lambda items: [None if item is None else child(item) for item in items]
    if (
        isinstance(field, relations.PrimaryKeyRelatedField)
        and type(field).to_representation is relations.PrimaryKeyRelatedField.to_representation
        and field.pk_field is None
    ):
        return _same
    return None


def _same(value):
    return value


class LeadReadSerializer(LeadSerializer):
    """LeadSerializer's representation of a lead, for the reads (list, retrieve) and the
    answers of transition and restore; LeadSerializer stays the one for writes and the schema.

    DRF builds a ModelSerializer's fields anew for every serializer instance (`get_fields()`:
    model introspection and a deep copy of the declared fields, a sixth of a retrieve) and
    then, per object and field, resolves the attribute and calls the field. Here the fields
    are built once per class, from a LeadSerializer, and turned into a list of (key, attribute
    getter, converter) that `to_representation` walks, the documented hook for changing how
    an object is represented. It gives the same dict, key for key in the same order: the
    converters are the fields' own `to_representation` or, for the plain types, what that
    method returns (`str`, `int`, the related object's primary key, which DRF reads from the
    `<field>_id` attribute as well). Bypassed: the per-request construction of the fields and
    `Field.get_attribute`. Safe because no field here reads the serializer's context or
    instance (no hyperlinks, method fields or nested serializers): a field that could makes
    `_plan` None and DRF's own `to_representation` runs instead. tests/leads/
    test_identical_output.py compares the bytes with those LeadSerializer gave.
    """

    _plans: dict = {}  # class -> plan (or None), built on first use; reset on settings changes

    @classmethod
    def _plan(cls):
        try:
            return cls._plans[cls]
        except KeyError:
            pass
        prototype = cls()  # only its fields are used, never its context
        model = cls.Meta.model
        plan = []
        for field in prototype._readable_fields:
            convert = _converter(field)
            if convert is None or len(field.source_attrs) != 1:
                plan = None
                break
            source = field.source_attrs[0]
            if isinstance(field, relations.PrimaryKeyRelatedField):
                source = model._meta.get_field(source).attname  # as serializable_value() reads
            elif not _plain_attribute(model, source):
                plan = None
                break
            plan.append((field.field_name, operator.attrgetter(source), convert))
        cls._plans[cls] = (model, tuple(plan)) if plan is not None else None
        return cls._plans[cls]

    def to_representation(self, instance):
        plan = self._plan()
        if plan is None or type(instance) is not plan[0]:
            return super().to_representation(instance)
        representation = {}
        for key, get, convert in plan[1]:
            value = get(instance)
            representation[key] = None if value is None else convert(value)
        return representation


def _plain_attribute(model, name: str) -> bool:
    """A concrete field other than a relation, or a property: DRF would read it and call
    nothing (a method would be called)."""
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return isinstance(getattr(model, name, None), property)
    return field.concrete and not field.is_relation


@receiver(setting_changed)
def _forget_plans(*, setting, **kwargs):
    # The converters read REST_FRAMEWORK (the date-time format) when they are made.
    if setting == "REST_FRAMEWORK":
        LeadReadSerializer._plans.clear()


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
