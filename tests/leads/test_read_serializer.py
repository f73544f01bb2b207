"""LeadReadSerializer gives exactly LeadSerializer's representation, from fields built once."""

import datetime
import uuid
import zoneinfo

import pytest
from rest_framework import serializers

from leads import selectors
from leads.api.serializers import LeadReadSerializer, LeadSerializer
from leads.models import Lead, LeadSource, LeadStatus
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def both(lead) -> tuple[dict, dict]:
    return LeadReadSerializer(lead).data, LeadSerializer(lead).data


def test_the_fast_path_is_on_for_leads():
    model, plan = LeadReadSerializer._plan()
    assert model is Lead
    assert [key for key, _, _ in plan] == list(LeadSerializer().fields)


def test_same_dict_key_for_key_in_the_same_order(lead_factory):
    owner = UserFactory()
    leads = [
        lead_factory(owner=owner, notes="\u2028 caf\u00e9 \U0001f680", score=0),
        lead_factory(status=LeadStatus.CONVERTED, source=LeadSource.PARTNER, phone=""),
        lead_factory(created_by=owner, updated_by=owner, title=""),
    ]
    converted_at = datetime.datetime(2024, 1, 1, 0, 0, 0, 1, tzinfo=datetime.UTC)
    Lead.objects.filter(pk=leads[1].pk).update(converted_at=converted_at)
    for lead in selectors.lead_list():
        fast, drf = both(lead)
        assert list(fast.items()) == list(drf.items())


def test_a_lead_just_created_in_memory_too():
    """Enum members (the model's defaults) and values set in Python, not read back."""
    minus_three = datetime.timezone(datetime.timedelta(hours=-3))
    lead = Lead(
        id=uuid.uuid4(),
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.com",
        created_at=datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=zoneinfo.ZoneInfo("Europe/Paris")),
        updated_at=datetime.datetime(2024, 5, 6, 7, 8, 9, 10, tzinfo=datetime.UTC),
        converted_at=datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=minus_three),
    )
    fast, drf = both(lead)
    assert list(fast.items()) == list(drf.items())
    assert fast["created_at"] == "2024-05-06T05:08:09Z"
    assert fast["status"] == "new"
    assert type(fast["status"]) is str


def test_naive_and_out_of_range_datetimes_take_drfs_way():
    lead = Lead(
        first_name="N",
        last_name="N",
        email="n@example.com",
        created_at=datetime.datetime(2024, 5, 6, 7, 8, 9),  # naive: DRF makes it aware (UTC)
        updated_at=None,
    )
    fast, drf = both(lead)
    assert list(fast.items()) == list(drf.items())
    assert fast["created_at"] == "2024-05-06T07:08:09Z"
    lead.updated_at = datetime.datetime.max.replace(
        tzinfo=datetime.timezone(datetime.timedelta(hours=-1))
    )
    with pytest.raises(serializers.ValidationError):
        LeadReadSerializer(lead).data  # noqa: B018 - as LeadSerializer: "out of range"
    with pytest.raises(serializers.ValidationError):
        LeadSerializer(lead).data  # noqa: B018


def test_many(lead_factory):
    lead_factory.create_batch(3)
    leads = list(selectors.lead_list())
    fast = LeadReadSerializer(leads, many=True).data
    drf = LeadSerializer(leads, many=True).data
    assert [list(row.items()) for row in fast] == [list(row.items()) for row in drf]


def test_anything_but_a_lead_takes_drfs_way(lead):
    row = {name: getattr(lead, name) for name in LeadSerializer.Meta.fields}
    fast, drf = LeadReadSerializer(row).data, LeadSerializer(row).data
    assert list(fast.items()) == list(drf.items())
    assert fast["id"] == str(lead.pk)


class WithMethodField(LeadReadSerializer):
    shout = serializers.SerializerMethodField()

    class Meta(LeadReadSerializer.Meta):
        fields = [*LeadReadSerializer.Meta.fields, "shout"]

    def get_shout(self, lead):
        return self.context["prefix"] + lead.first_name.upper()


def test_a_field_that_needs_the_serializer_turns_the_fast_path_off(lead):
    assert WithMethodField._plan() is None
    data = WithMethodField(lead, context={"prefix": "!"}).data
    assert data["shout"] == "!" + lead.first_name.upper()


def test_the_api_reads_with_it_and_the_schema_still_names_lead_serializer(api_client, lead):
    from drf_spectacular.generators import SchemaGenerator

    from leads.api.views import LeadViewSet

    for action in ("list", "retrieve"):
        assert LeadViewSet(action=action).get_serializer_class() is LeadReadSerializer
    for action in ("create", "update", "partial_update"):
        assert LeadViewSet(action=action).get_serializer_class() is LeadSerializer
    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert "LeadRead" not in schema["components"]["schemas"]
