"""factory_boy factories for the test suite (exposed as fixtures in conftest.py)."""

import factory
from django.contrib.auth import get_user_model
from factory.django import DjangoModelFactory

from leads.models import Lead, LeadSource, LeadStatus


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@staff.example")
    password = factory.django.Password("correct horse battery staple")


class LeadFactory(DjangoModelFactory):
    class Meta:
        model = Lead

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"lead{n}@customer.example")
    phone = factory.Faker("numerify", text="+1 555 ### ####")
    company = factory.Faker("company")
    title = factory.Faker("job")
    source = LeadSource.WEB
    status = LeadStatus.NEW
    score = factory.Faker("pyint", min_value=0, max_value=100)
