"""The canonical e-mail form: one spelling per mailbox, whatever path writes the lead."""

import importlib
import time

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction

from leads.emails import canonical_email, require_ascii_domain
from leads.models import Lead

# Escapes, not the characters: they are the point, and must not be mistaken for ASCII.
LONG_S = "\u017f"
KELVIN = "\u212a"
ZERO_WIDTH_SPACE = "\u200b"
FULLWIDTH_ADA = "\uff41\uff44\uff41"
FULLWIDTH_AT = "\uff20"
IDN_DOMAIN = "b\u00fccher.example"  # bücher.example
PUNYCODE_DOMAIN = "xn--bcher-kva.example"

# (as written, as stored)
CANONICAL = [
    ("ada@example.com", "ada@example.com"),
    ("Ada.Lovelace@Example.COM", "Ada.Lovelace@example.com"),  # the local part keeps its case
    (f"ada@{IDN_DOMAIN}", f"ada@{PUNYCODE_DOMAIN}"),
    (f"ada@{IDN_DOMAIN.upper()}", f"ada@{PUNYCODE_DOMAIN}"),
    (f"ada@{PUNYCODE_DOMAIN.upper()}", f"ada@{PUNYCODE_DOMAIN}"),
    (f"{LONG_S}am@example.com", "sam@example.com"),
    (f"ada@bu{LONG_S}iness.example", "ada@business.example"),
    (f"{KELVIN}im@example.com", "Kim@example.com"),
    (f"{FULLWIDTH_ADA}{FULLWIDTH_AT}\uff45\uff58.com", "ada@ex.com"),
    (f"ada@exa{ZERO_WIDTH_SPACE}mple.com", "ada@example.com"),
    ("ada@[127.0.0.1]", "ada@[127.0.0.1]"),
    ("no-at-sign", "no-at-sign"),
]


@pytest.mark.parametrize(("written", "stored"), CANONICAL)
def test_canonical_form(written, stored):
    assert canonical_email(written) == stored
    assert canonical_email(stored) == stored  # a fixed point: storing twice changes nothing


@pytest.mark.parametrize("stored", [stored for _, stored in CANONICAL[:-1]])
def test_every_stored_form_is_valid_for_djangos_email_validator(stored):
    validate_email(stored)


def test_djangos_email_validator_still_accepts_idn_addresses():
    validate_email(f"ada@{IDN_DOMAIN}")


def test_a_domain_without_an_ascii_form_is_kept_and_refused():
    address = "ada@\ue000.example"  # private use: IDNA has no ASCII form for it
    assert canonical_email(address) == address
    with pytest.raises(ValidationError) as caught:
        require_ascii_domain(address)
    assert caught.value.messages == ["Enter a valid email address."]


@pytest.mark.parametrize(
    "address",
    [
        pytest.param("ada@" + "\u4e00\u4e8c" * 5_000 + ".example", id="longer-than-an-address"),
        pytest.param("ada@" + "\u4e00\u4e8c" * 150 + ".example", id="longer-than-a-label"),
    ],
)
def test_text_too_long_to_be_valid_is_not_encoded(address):
    """IDNA encoding is quadratic in a label's length: 10,000 CJK characters took seconds, so
    one import of such rows would hold a worker for minutes."""
    started = time.monotonic()
    for _ in range(100):
        assert canonical_email(address) == address
    assert time.monotonic() - started < 0.5
    with pytest.raises(ValidationError):
        require_ascii_domain(address)


@pytest.mark.django_db
class TestEveryWriteStoresTheCanonicalForm:
    def test_full_clean_canonicalises_and_refuses_a_domain_without_ascii_form(self):
        lead = Lead(first_name="A", last_name="B", email=f"ada@{IDN_DOMAIN}")
        lead.full_clean(exclude=["owner"])
        assert lead.email == f"ada@{PUNYCODE_DOMAIN}"
        lead.email = "ada@\ue000.example"
        with pytest.raises(ValidationError) as caught:
            lead.full_clean()
        assert caught.value.message_dict == {"email": ["Enter a valid email address."]}

    def test_writes_without_validation_canonicalise_too(self, lead_factory):
        saved = lead_factory(email=f"ada@{IDN_DOMAIN}")
        assert Lead.objects.get(pk=saved.pk).email == f"ada@{PUNYCODE_DOMAIN}" == saved.email
        (bulk,) = Lead.objects.bulk_create(
            [Lead(first_name="A", last_name="B", email=f"{LONG_S}am@example.com")]
        )
        assert Lead.objects.get(pk=bulk.pk).email == "sam@example.com"
        Lead.objects.filter(pk=bulk.pk).update(email=f"{FULLWIDTH_ADA}@example.com")
        assert Lead.objects.get(pk=bulk.pk).email == "ada@example.com"

    def test_exact_lookups_find_any_spelling(self, lead_factory):
        lead = lead_factory(email=f"ada@{PUNYCODE_DOMAIN}")
        assert Lead.objects.get(email=f"ada@{IDN_DOMAIN}") == lead

    @pytest.mark.parametrize(
        ("first", "second"),
        [
            (f"ada@{IDN_DOMAIN}", f"ada@{PUNYCODE_DOMAIN}"),
            (f"{LONG_S}am@example.com", "SAM@example.com"),
            (f"{FULLWIDTH_ADA}@example.com", "ada@example.com"),
        ],
    )
    def test_the_database_constraint_catches_equivalent_spellings(self, first, second):
        # bulk_create skips model validation: this is the constraint, on the stored form.
        Lead.objects.bulk_create([Lead(first_name="A", last_name="B", email=first)])
        with pytest.raises(IntegrityError), transaction.atomic():
            Lead.objects.bulk_create([Lead(first_name="C", last_name="D", email=second)])
        assert Lead.objects.count() == 1


@pytest.mark.django_db
class TestMigrationOfStoredAddresses:
    migration = importlib.import_module("leads.migrations.0003_lead_email_canonical")

    def store_as_given(self, lead_factory, email):
        """A row written before the rule: SQL, as the ORM would canonicalise."""
        lead = lead_factory()
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE leads_lead SET email = %s WHERE id = %s",
                [email, Lead._meta.pk.get_db_prep_value(lead.pk, connection)],
            )
        return lead

    def test_rewrites_old_spellings_and_leaves_duplicates_for_people(self, lead_factory, caplog):
        old = self.store_as_given(lead_factory, f"grace@{IDN_DOMAIN}")
        taken = lead_factory(email=f"ada@{PUNYCODE_DOMAIN}")
        duplicate = self.store_as_given(lead_factory, f"ada@{IDN_DOMAIN.upper()}")
        self.migration.canonicalise_stored_emails(apps, None)
        assert Lead.objects.get(pk=old.pk).email == f"grace@{PUNYCODE_DOMAIN}"
        assert Lead.objects.get(pk=taken.pk).email == f"ada@{PUNYCODE_DOMAIN}"
        assert Lead.objects.get(pk=duplicate.pk).email == f"ada@{IDN_DOMAIN.upper()}"
        (record,) = [r for r in caplog.records if r.name == self.migration.__name__]
        assert record.lead_ids == [str(duplicate.pk)]
        assert "ada" not in record.getMessage()  # ids only, never an address
