"""Query-string filtering and ordering for the lead list, stats and export."""

import django_filters
from rest_framework.filters import OrderingFilter

from leads.models import Lead, LeadSource, LeadStatus


class LeadFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=LeadStatus.choices)
    source = django_filters.MultipleChoiceFilter(choices=LeadSource.choices)
    # By id without a lookup of the user: an unknown owner simply matches nothing.
    owner = django_filters.NumberFilter(field_name="owner_id")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

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
