"""Query-string filtering and ordering for the lead list, stats and export."""

from datetime import UTC

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend
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


class QueryStringFilterBackend(DjangoFilterBackend):
    """django-filter's backend, which leaves a queryset alone when the query string names none
    of its filterset's filters.

    django-filter builds the whole filterset (a deep copy of every filter), its form class
    and form, and validates the form on every request, also for `?page_size=50`, where every
    field is empty and every filter then returns the queryset as it was (django-filter skips
    empty values). Bypassed: that construction and validation. Safe because with none of
    the filters' parameters present there is nothing to narrow and nothing to refuse. Only
    for filtersets whose filters each read the one parameter named after the filter (plain
    widgets); one with a suffixed widget (RangeWidget, `_min`/`_max`) always takes the full
    path, and so does one with a required filter.
    """

    _parameters: dict = {}  # filterset class -> the parameter names its filters read, or None

    @classmethod
    def filter_parameters(cls, filterset_class) -> frozenset[str] | None:
        try:
            return cls._parameters[filterset_class]
        except KeyError:
            pass
        names = frozenset(filterset_class.base_filters)
        for filter_ in filterset_class.base_filters.values():
            widget = filter_.extra.get("widget", filter_.field_class.widget)
            suffixed = isinstance(widget, forms.MultiWidget) or (
                isinstance(widget, type) and issubclass(widget, forms.MultiWidget)
            )
            if suffixed or filter_.extra.get("required"):
                names = None
                break
        cls._parameters[filterset_class] = names
        return names

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            parameters = self.filter_parameters(filterset_class)
            if parameters is not None and parameters.isdisjoint(request.query_params):
                return queryset
        return super().filter_queryset(request, queryset, view)
