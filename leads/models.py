"""The Lead model: data, database constraints and the status pipeline's allowed moves.

Behaviour lives in services.py (writes) and selectors.py (reads); the model only states
what is always true, as close to the database as it can.
"""

import functools
import uuid

from django.conf import settings
from django.core.validators import (
    MaxValueValidator,
    MinValueValidator,
    ProhibitNullCharactersValidator,
)
from django.db import models
from django.db.models.base import ModelState
from django.db.models.functions import Lower
from django.db.models.signals import post_init, pre_init

from leads.emails import CanonicalEmailField


class LeadSource(models.TextChoices):
    WEB = "web", "Web"
    REFERRAL = "referral", "Referral"
    EVENT = "event", "Event"
    ADVERTISING = "advertising", "Advertising"
    PARTNER = "partner", "Partner"
    OTHER = "other", "Other"


@functools.cache
def _concrete_attnames(model) -> tuple[str, ...]:
    """The attributes Model.__init__ assigns a row's values to, in order."""
    return tuple(field.attname for field in model._meta.concrete_fields)


class LeadStatus(models.TextChoices):
    NEW = "new", "New"
    CONTACTED = "contacted", "Contacted"
    QUALIFIED = "qualified", "Qualified"
    UNQUALIFIED = "unqualified", "Unqualified"
    CONVERTED = "converted", "Converted"
    LOST = "lost", "Lost"


# The pipeline: every move not listed here is refused. Converted is terminal; lost and
# unqualified leads can be worked again.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    LeadStatus.NEW: frozenset(
        {LeadStatus.CONTACTED, LeadStatus.QUALIFIED, LeadStatus.UNQUALIFIED, LeadStatus.LOST}
    ),
    LeadStatus.CONTACTED: frozenset(
        {LeadStatus.QUALIFIED, LeadStatus.UNQUALIFIED, LeadStatus.LOST}
    ),
    LeadStatus.QUALIFIED: frozenset(
        {LeadStatus.CONVERTED, LeadStatus.UNQUALIFIED, LeadStatus.LOST}
    ),
    LeadStatus.UNQUALIFIED: frozenset({LeadStatus.CONTACTED, LeadStatus.LOST}),
    LeadStatus.LOST: frozenset({LeadStatus.CONTACTED}),
    LeadStatus.CONVERTED: frozenset(),
}
# What allowed_transitions() answers for each status, as plain strings in order, sorted once.
_SORTED_TRANSITIONS = {
    status: tuple(sorted(target.value for target in targets))
    for status, targets in ALLOWED_TRANSITIONS.items()
}

EMAIL_UNIQUE_CONSTRAINT = "leads_lead_email_ci_unique_active"
# PostgreSQL text cannot hold NUL: refused as invalid input (400) before it reaches the driver
# (a 500). DRF's serializers refuse it too; imports validate with full_clean only.
NO_NUL = [ProhibitNullCharactersValidator()]
# What clients may set (create, update, import); everything else is kept by the services.
EDITABLE_FIELDS = (
    "first_name", "last_name", "email", "phone", "company", "title", "source", "score", "owner",
    "notes",
)  # fmt: skip


class Lead(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    first_name = models.CharField(max_length=100, validators=NO_NUL)
    last_name = models.CharField(max_length=100, validators=NO_NUL)
    # Stored in canonical form (NFKC, ASCII domain) so the constraint below sees one spelling
    # per mailbox: see leads.emails.
    email = CanonicalEmailField(max_length=254, validators=NO_NUL)
    phone = models.CharField(max_length=40, blank=True, validators=NO_NUL)
    company = models.CharField(max_length=200, blank=True, validators=NO_NUL)
    title = models.CharField(max_length=200, blank=True, validators=NO_NUL)
    source = models.CharField(max_length=20, choices=LeadSource, default=LeadSource.WEB)
    status = models.CharField(max_length=20, choices=LeadStatus, default=LeadStatus.NEW)
    score = models.PositiveSmallIntegerField(
        default=0, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_leads",
    )
    notes = models.TextField(blank=True, validators=NO_NUL)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    converted_at = models.DateTimeField(null=True, blank=True, editable=False)
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            # One live lead per address, whatever its case; soft-deleted leads free the address.
            models.UniqueConstraint(
                Lower("email"),
                condition=models.Q(deleted_at__isnull=True),
                name=EMAIL_UNIQUE_CONSTRAINT,
                violation_error_message="A lead with this e-mail address already exists.",
            ),
            models.CheckConstraint(
                condition=models.Q(score__gte=0, score__lte=100),
                name="leads_lead_score_0_100",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=LeadStatus.values),
                name="leads_lead_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(source__in=LeadSource.values),
                name="leads_lead_source_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["status"], name="leads_lead_status_idx"),
            models.Index(fields=["source"], name="leads_lead_source_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @classmethod
    def from_db(cls, db, field_names, values):
        # Django's documented hook for making an instance of a loaded row. A whole row (every
        # concrete field, in field order, as QuerySets load leads) skips Model.__init__, whose
        # per-field assignment through the field descriptors was a tenth of a 50-lead page.
        # Everything else __init__ does for a row from the database is kept: a new ModelState
        # marked as loaded from `db`, and the pre_init/post_init signals, by taking Django's
        # own way whenever anything listens to them.
        attnames = _concrete_attnames(cls)
        if (
            len(values) != len(attnames)
            or pre_init.has_listeners(cls)
            or post_init.has_listeners(cls)
        ):
            return super().from_db(db, field_names, values)
        lead = cls.__new__(cls)
        lead.__dict__.update(zip(attnames, values, strict=True))
        state = lead._state = ModelState()
        state.adding, state.db = False, db
        return lead

    @property
    def allowed_transitions(self) -> list[str]:
        return list(_SORTED_TRANSITIONS[self.status])
