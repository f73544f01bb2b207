"""Where the filter backends run: lists (list, stats, export), not the detail actions; and
django-filter only when the query string names one of its filters."""

import pytest
from django import forms
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_filters import FilterSet, NumberFilter, RangeFilter

from leads.api import filters
from leads.models import Lead, LeadStatus

pytestmark = pytest.mark.django_db

LEADS = "/api/v1/leads/"


@pytest.fixture
def filtersets_built(monkeypatch):
    """How many LeadFilter instances the requests build."""
    built = []
    original = filters.LeadFilter.__init__

    def counting(self, *args, **kwargs):
        built.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(filters.LeadFilter, "__init__", counting)
    return built


class TestDetailActionsIgnoreListParameters:
    """A lead is addressed by its URL; the query string of a list does not hide it."""

    def test_retrieve(self, api_client, lead, filtersets_built):
        response = api_client.get(f"{LEADS}{lead.pk}/?status=lost&search=nobody&ordering=-score")
        assert response.status_code == 200
        assert response.json()["id"] == str(lead.pk)
        assert filtersets_built == []

    def test_an_invalid_filter_value_is_not_an_error_there(self, api_client, lead):
        response = api_client.get(f"{LEADS}{lead.pk}/?created_after=yesterday&owner=x")
        assert response.status_code == 200

    def test_writes(self, api_client, lead):
        url = f"{LEADS}{lead.pk}/"
        response = api_client.patch(f"{url}?status=lost", {"score": 5}, format="json")
        assert response.status_code == 200
        response = api_client.post(f"{url}transition/?search=nobody", {"status": "contacted"})
        assert response.status_code == 200
        assert api_client.delete(f"{url}?status=converted").status_code == 204
        assert api_client.post(f"{url}restore/?status=lost").status_code == 200

    def test_the_lookup_is_still_live_leads_only(self, api_client, lead):
        Lead.objects.filter(pk=lead.pk).update(deleted_at="2024-01-01T00:00:00Z")
        assert api_client.get(f"{LEADS}{lead.pk}/").status_code == 404

    def test_one_query_for_the_lead(self, api_client, lead):
        with CaptureQueriesContext(connection) as queries:
            assert api_client.get(f"{LEADS}{lead.pk}/").status_code == 200
        lead_queries = [q["sql"] for q in queries if "leads_lead" in q["sql"]]
        assert len(lead_queries) == 1
        assert "ORDER BY" not in lead_queries[0]


class TestListsStillFilter:
    def test_list_filters_and_validates(self, api_client, lead_factory, filtersets_built):
        lead_factory(status=LeadStatus.LOST)
        lead_factory(status=LeadStatus.NEW)
        assert api_client.get(f"{LEADS}?status=lost").json()["count"] == 1
        assert len(filtersets_built) == 1
        assert api_client.get(f"{LEADS}?created_after=yesterday").status_code == 400

    def test_stats_and_export_filter(self, api_client, lead_factory):
        lead_factory(status=LeadStatus.LOST)
        lead_factory(status=LeadStatus.NEW)
        assert api_client.get(f"{LEADS}stats/?status=lost").json()["total"] == 1
        export = api_client.get(f"{LEADS}export/?status=lost")
        assert len(b"".join(export.streaming_content).splitlines()) == 2

    def test_no_filter_parameter_builds_no_filterset(self, api_client, lead, filtersets_built):
        response = api_client.get(f"{LEADS}?page_size=5&search={lead.last_name}&ordering=score")
        assert response.json()["count"] == 1
        assert filtersets_built == []

    def test_an_empty_filter_parameter_takes_django_filters_way(
        self, api_client, lead, filtersets_built
    ):
        assert api_client.get(f"{LEADS}?owner=").json()["count"] == 1
        assert len(filtersets_built) == 1


class SuffixedFilterSet(FilterSet):
    score = RangeFilter()  # reads score_min and score_max

    class Meta:
        model = Lead
        fields = ["score"]


class RequiredFilterSet(FilterSet):
    score = NumberFilter(required=True)

    class Meta:
        model = Lead
        fields = ["score"]


class CustomWidgetFilterSet(FilterSet):
    score = NumberFilter(widget=forms.MultiWidget(widgets=[forms.TextInput, forms.TextInput]))

    class Meta:
        model = Lead
        fields = ["score"]


def test_the_shortcut_only_for_filters_that_read_their_own_name():
    backend = filters.QueryStringFilterBackend
    assert backend.filter_parameters(filters.LeadFilter) == {
        "status",
        "source",
        "owner",
        "created_after",
        "created_before",
    }
    assert backend.filter_parameters(SuffixedFilterSet) is None
    assert backend.filter_parameters(RequiredFilterSet) is None
    assert backend.filter_parameters(CustomWidgetFilterSet) is None


def test_lead_list_is_a_fresh_queryset_each_time(lead, lead_factory):
    from leads import selectors

    first, second = selectors.lead_list(), selectors.lead_list()
    assert first is not second
    assert first.query is not second.query
    assert list(first.filter(score=-1)) == []
    assert list(first) == [lead]
    lead_factory()
    assert second.count() == 2  # not a cached result of another caller's evaluation
    assert selectors.lead_list(include_deleted=True).count() == 2
