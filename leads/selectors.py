"""Reads of leads: the querysets the API, admin and exports start from."""

import functools

from django.db import models
from django.db.models import Count, QuerySet
from django.db.models.functions import Lower

from common.database import CompiledLookup
from leads.models import Lead, LeadSource, LeadStatus


def lead_list(*, include_deleted: bool = False) -> QuerySet[Lead]:
    """Live leads, newest first (soft-deleted ones only when asked for)."""
    if include_deleted:
        return Lead.objects.all()
    return _live_leads().all()


@functools.cache
def _live_leads() -> QuerySet[Lead]:
    # Built once per process: resolving the lookup is a few dozen microseconds that every API
    # request paid. Callers get a clone (`.all()`); this queryset itself is never evaluated,
    # so it holds no rows and no connection, and clones never share state.
    return Lead.objects.filter(deleted_at__isnull=True)


# A live lead by id, compiled once (common.database.CompiledLookup): the API's detail
# requests look leads up by id more than anything else.
_live_lead_by_id = CompiledLookup(
    lambda lead_id: Lead.objects.filter(deleted_at__isnull=True, pk=lead_id).order_by(),
    Lead._meta.pk,
)


def lead_get(*, lead_id, include_deleted: bool = False) -> Lead:
    """One lead by id; raises Lead.DoesNotExist for unknown or (by default) deleted leads."""
    if include_deleted:
        return lead_list(include_deleted=True).get(pk=lead_id)
    lead = _live_lead_by_id.get(lead_id)
    if lead is None:
        raise Lead.DoesNotExist("No live lead matches the given id.")
    return lead


def lead_email_taken(*, email: str, exclude_id=None) -> bool:
    """Whether a live lead other than `exclude_id` uses `email`, compared case-insensitively.

    `email` in canonical form (leads.emails.canonical_email), the form leads are stored in.
    """
    return (
        lead_list()
        .exclude(pk=exclude_id)
        .annotate(email_lower=Lower("email"))
        .filter(email_lower=Lower(models.Value(email)))
        .exists()
    )


def lead_stats(*, leads: QuerySet[Lead] | None = None) -> dict:
    """Counts by status and by source over `leads` (all live leads by default), zeros included."""
    leads = (lead_list() if leads is None else leads).order_by()
    by_status = dict(leads.values_list("status").annotate(count=Count("pk")))
    by_source = dict(leads.values_list("source").annotate(count=Count("pk")))
    return {
        "total": sum(by_status.values()),
        "by_status": {status: by_status.get(status, 0) for status in LeadStatus.values},
        "by_source": {source: by_source.get(source, 0) for source in LeadSource.values},
    }
