"""Query-string filtering and ordering for the lead list, stats and export."""

from datetime import UTC

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField
from drf_spectacular.utils import extend_schema_field
from rest_framework.filters import OrderingFilter

from leads.models import Lead, LeadSource, LeadStatus

BIGINT_MAX = 2**63 - 1  # user ids are PostgreSQL bigints


class UserIdFilter(django_filters.NumberFilter):
    """A user id: an integer (NumberFilter alone takes any decimal, 1.5 or 1e62, and its
    schema says "number"); out of range is invalid input, not a database error."""

    field_class = forms.IntegerField

    def get_max_validator(self):
        return None  # the field's own max_value


class UtcIsoDateTimeField(IsoDateTimeField):
    """ISO 8601, turned into UTC here: Python accepts offsets up to ±23:59 but PostgreSQL
    only up to ±15:59, and a query with "-21:36" was a 500. A moment that leaves the calendar
    once in UTC (year 1 at +01:00) is invalid input."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None or value.tzinfo is None:
            return value
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError("Out of range once in UTC.", code="invalid") from None


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class LeadFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=LeadStatus.choices)
    source = django_filters.MultipleChoiceFilter(choices=LeadSource.choices)
    # By id without a lookup of the user: an unknown owner simply matches nothing.
    owner = extend_schema_field({"type": "integer", "minimum": 1, "maximum": BIGINT_MAX})(
        UserIdFilter(field_name="owner_id", min_value=1, max_value=BIGINT_MAX)
    )
    created_after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Lead
        fields = ["status", "source", "owner", "created_after", "created_before"]


class StableOrderingFilter(OrderingFilter):
    """OrderingFilter that always ends on the primary key, so pages never repeat or skip a row."""

    def get_ordering(self, request, queryset, view):
        ordering = list(super().get_ordering(request, queryset, view) or [])
        if "id" not in ordering and "-id" not in ordering:
            ordering.append("id")
        return ordering
