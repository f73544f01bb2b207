"""Writes to leads: every change to a Lead goes through one of these functions.

Each validates (`full_clean` plus the e-mail rule) before it saves, runs in a transaction,
and reports through `transaction.on_commit`, so nothing is announced that did not commit.
Refusals are Django `ValidationError`s (bad input, 400) or `ConflictError`s (409).
"""

import logging
from collections.abc import Mapping, Sequence

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from common.problems import ApplicationError, ConflictError
from leads.models import (
    ALLOWED_TRANSITIONS,
    EDITABLE_FIELDS,
    EMAIL_UNIQUE_CONSTRAINT,
    Lead,
    LeadStatus,
)
from observability import metrics

logger = logging.getLogger(__name__)

DUPLICATE_EMAIL = "A lead with this e-mail address already exists."
INACTIVE_OWNER = "This user is inactive; leads can only be assigned to active users."

RowErrors = dict[str, list[str]]
NUMBER_FIELDS = frozenset({"score", "owner"})


class LeadImportError(ApplicationError):
    """An import with at least one bad row: nothing was created. `errors` maps row → field."""

    type_slug = "validation-error"


def _actor(user: AbstractBaseUser | None):
    return user if user is not None and user.is_authenticated else None


def _validation_errors(leads: Sequence[Lead], *, assigning_owner: bool) -> dict[int, RowErrors]:
    """Field errors by position, plus the e-mail rule checked in one query for the whole batch,
    and, when the leads' owner is being set, the owner rule in one more.

    The database constraint stays the last word (see `_is_duplicate_email`); this gives the
    caller a readable, per-field answer before anything is written.
    """
    errors: dict[int, RowErrors] = {}
    for index, lead in enumerate(leads):
        try:
            # Not re-checked here, each a query per lead: that created_by/updated_by exist (the
            # actor was just loaded by authentication) and that the id is unique (uuid4, made
            # here; the primary key constraint stays the last word). full_clean also puts the
            # e-mail in canonical form (leads.emails), which the e-mail rule below compares.
            lead.full_clean(
                exclude=["created_by", "updated_by"],
                validate_unique=False,
                validate_constraints=False,
            )
        except ValidationError as error:
            errors[index] = error.message_dict
    if assigning_owner:
        _check_owners_active(leads, errors)
    _check_emails_free(leads, errors)
    return errors


def _check_owners_active(leads: Sequence[Lead], errors: dict[int, RowErrors]) -> None:
    """Refuse an inactive owner, as the API's owner field does: whatever path assigns one (an
    import has no serializer), a deactivated user must not be handed new leads.

    Only where the owner is being set: a lead whose owner left stays editable.
    """
    # full_clean has refused unknown ids and made the others numbers; "" (JSON) is no owner.
    candidates = {
        index: lead.owner_id
        for index, lead in enumerate(leads)
        if lead.owner_id not in (None, "") and "owner" not in errors.get(index, {})
    }
    if not candidates:
        return
    active = set(
        get_user_model()
        .objects.filter(pk__in=set(candidates.values()), is_active=True)
        .values_list("pk", flat=True)
    )
    for index, owner_id in candidates.items():
        if owner_id not in active:
            errors.setdefault(index, {})["owner"] = [INACTIVE_OWNER]


def _check_emails_free(leads: Sequence[Lead], errors: dict[int, RowErrors]) -> None:
    first_row_by_email: dict[str, int] = {}
    for index, lead in enumerate(leads):
        if "email" in errors.get(index, {}):
            continue
        key = lead.email.lower()
        if key in first_row_by_email:
            errors.setdefault(index, {})["email"] = [
                "Repeats the e-mail address of an earlier row."
            ]
        else:
            first_row_by_email[key] = index

    if first_row_by_email:
        taken = set(
            Lead.objects.filter(deleted_at__isnull=True)
            .exclude(pk__in=[lead.pk for lead in leads])
            .annotate(email_lower=Lower("email"))
            .filter(email_lower__in=list(first_row_by_email))
            .values_list("email_lower", flat=True)
        )
        for key in taken:
            errors.setdefault(first_row_by_email[key], {})["email"] = [DUPLICATE_EMAIL]


def _is_duplicate_email(error: IntegrityError) -> bool:
    # Both PostgreSQL and SQLite name the violated constraint (or its index) in the message.
    return EMAIL_UNIQUE_CONSTRAINT in str(error)


def _validate_one(lead: Lead, *, assigning_owner: bool) -> None:
    errors = _validation_errors([lead], assigning_owner=assigning_owner)
    if errors:
        raise ValidationError(errors[0])


def _save(lead: Lead, **save_kwargs) -> None:
    """Save inside a savepoint; a concurrent writer that took the e-mail first gives a 400."""
    try:
        with transaction.atomic():
            lead.save(**save_kwargs)
    except IntegrityError as error:
        if _is_duplicate_email(error):
            raise ValidationError({"email": [DUPLICATE_EMAIL]}) from error
        raise


def _log_on_commit(event: str, **fields) -> None:
    transaction.on_commit(lambda: logger.info(event, extra=fields))


def lead_create(*, actor: AbstractBaseUser | None, **fields) -> Lead:
    unknown = set(fields).difference(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: ["This field cannot be set."] for name in sorted(unknown)})
    lead = Lead(**fields, created_by=_actor(actor), updated_by=_actor(actor))
    _validate_one(lead, assigning_owner=True)
    _save(lead)
    _log_on_commit("lead created", lead_id=str(lead.pk), source=lead.source)
    transaction.on_commit(metrics.LEADS_CREATED.labels(lead.source).inc)
    return lead


def lead_update(*, lead: Lead, actor: AbstractBaseUser | None, data: Mapping) -> Lead:
    unknown = set(data).difference(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: ["This field cannot be set."] for name in sorted(unknown)})
    for name, value in data.items():
        setattr(lead, name, value)
    lead.updated_by = _actor(actor)
    _validate_one(lead, assigning_owner="owner" in data)
    _save(lead, update_fields=[*data, "updated_by", "updated_at"])
    _log_on_commit("lead updated", lead_id=str(lead.pk), fields=sorted(data))
    return lead


def lead_transition(*, lead: Lead, actor: AbstractBaseUser | None, to_status: str) -> Lead:
    """Move a lead along the pipeline, or refuse (409) and change nothing."""
    if to_status not in LeadStatus.values:
        raise ValidationError({"status": [f"“{to_status}” is not a valid status."]})
    with transaction.atomic():
        # The row lock makes check-then-write atomic against a concurrent transition.
        try:
            locked = Lead.objects.select_for_update().get(pk=lead.pk, deleted_at__isnull=True)
        except Lead.DoesNotExist:
            raise ConflictError("The lead is deleted; restore it first.") from None
        from_status = locked.status
        if to_status not in ALLOWED_TRANSITIONS[from_status]:
            allowed = ", ".join(sorted(ALLOWED_TRANSITIONS[from_status])) or "none (terminal)"
            raise ConflictError(
                f"A lead cannot move from {from_status} to {to_status}. "
                f"Allowed from {from_status}: {allowed}."
            )
        locked.status = to_status
        if to_status == LeadStatus.CONVERTED:
            locked.converted_at = timezone.now()
        locked.updated_by = _actor(actor)
        locked.save(update_fields=["status", "converted_at", "updated_by", "updated_at"])
        _log_on_commit(
            "lead transitioned",
            lead_id=str(locked.pk),
            from_status=from_status,
            to_status=to_status,
        )
        transaction.on_commit(metrics.LEAD_STATUS_TRANSITIONS.labels(from_status, to_status).inc)
    return locked


def lead_soft_delete(*, lead: Lead, actor: AbstractBaseUser | None) -> None:
    now = timezone.now()
    updated = Lead.objects.filter(pk=lead.pk, deleted_at__isnull=True).update(
        deleted_at=now, updated_at=now, updated_by=_actor(actor)
    )
    if not updated:
        raise ConflictError("The lead is already deleted.")
    lead.deleted_at = now
    _log_on_commit("lead deleted", lead_id=str(lead.pk))


def lead_restore(*, lead: Lead, actor: AbstractBaseUser | None) -> Lead:
    """Bring a soft-deleted lead back, unless a live lead has taken its e-mail meanwhile."""
    if lead.deleted_at is None:
        raise ConflictError("The lead is not deleted.")
    lead.deleted_at = None
    lead.updated_by = _actor(actor)
    try:
        _validate_one(lead, assigning_owner=False)
        _save(lead, update_fields=["deleted_at", "updated_by", "updated_at"])
    except ValidationError as error:
        lead.refresh_from_db()
        raise ConflictError(
            "Another live lead uses this lead's e-mail address; change or delete it first."
        ) from error
    _log_on_commit("lead restored", lead_id=str(lead.pk))
    return lead


def _lead_from_row(row, actor) -> tuple[Lead | None, RowErrors]:
    if not isinstance(row, Mapping):
        return None, {"non_field_errors": ["Expected an object with lead fields."]}
    errors = {name: ["Unknown field."] for name in row if name not in EDITABLE_FIELDS}
    errors |= {
        name: ["Expected a single value."]
        for name, value in row.items()
        if isinstance(value, Mapping | list)
    }
    # full_clean would turn 42 or true into the text "42" or "True": a JSON row says what it
    # means. Numbers may come as text (every CSV cell is text), never as booleans or fractions.
    errors |= {
        name: ["Expected text." if name not in NUMBER_FIELDS else "Expected a whole number."]
        for name, value in row.items()
        if name not in errors
        and value is not None
        and not isinstance(value, str)
        and (name not in NUMBER_FIELDS or isinstance(value, bool) or not isinstance(value, int))
    }
    if errors:
        return None, errors
    fields = dict(row)
    if "owner" in fields:
        fields["owner_id"] = fields.pop("owner")
    return Lead(**fields, created_by=_actor(actor), updated_by=_actor(actor)), {}


def lead_import(*, actor: AbstractBaseUser | None, rows: Sequence) -> list[Lead]:
    """Create every row or none: any bad row rejects the whole import with errors by row number.

    Rows are numbered from 1 in the order given (the CSV header is not a row).
    """
    if not rows:
        raise LeadImportError("The import holds no rows.")
    if len(rows) > settings.LEAD_IMPORT_MAX_ROWS:
        raise LeadImportError(
            f"An import takes at most {settings.LEAD_IMPORT_MAX_ROWS} rows; "
            f"this one has {len(rows)}. Split it."
        )
    errors: dict[int, RowErrors] = {}
    leads: list[Lead] = []
    row_indexes: list[int] = []  # row_indexes[i] is the caller's row of leads[i]
    for index, row in enumerate(rows):
        lead, row_errors = _lead_from_row(row, actor)
        if row_errors:
            errors[index] = row_errors
        else:
            leads.append(lead)
            row_indexes.append(index)
    for position, row_errors in _validation_errors(leads, assigning_owner=True).items():
        errors[row_indexes[position]] = row_errors
    if errors:
        metrics.LEAD_IMPORT_ROWS.labels("rejected").inc(len(rows))
        raise LeadImportError(
            f"{len(errors)} of {len(rows)} rows are invalid; nothing was imported.",
            errors={str(index + 1): errors[index] for index in sorted(errors)},
        )
    try:
        with transaction.atomic():
            Lead.objects.bulk_create(leads)
    except IntegrityError as error:
        if _is_duplicate_email(error):
            raise ConflictError(
                "Another request created a lead with one of these e-mail addresses while this "
                "import ran; nothing was imported. Retry to see which row."
            ) from error
        raise
    _log_on_commit("leads imported", count=len(leads))
    transaction.on_commit(lambda: _count_imported(leads))
    return leads


def _count_imported(leads: list[Lead]) -> None:
    metrics.LEAD_IMPORT_ROWS.labels("created").inc(len(leads))
    for lead in leads:
        metrics.LEADS_CREATED.labels(lead.source).inc()
