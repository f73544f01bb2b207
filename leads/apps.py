"""The leads app: the CRM domain."""

from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "leads"
    verbose_name = "Leads"

    def ready(self) -> None:
        from leads.api import schema  # noqa: F401 - registers the OpenAPI extensions
        from leads.models import ALLOWED_TRANSITIONS, LeadSource
        from observability import metrics

        # Every business counter exists at 0 from the first scrape, for each value its labels
        # can take, so rate() and increase() see 0 on a fresh pod instead of nothing.
        for source in LeadSource.values:
            metrics.LEADS_CREATED.labels(source)
        for from_status, to_statuses in ALLOWED_TRANSITIONS.items():
            for to_status in to_statuses:
                metrics.LEAD_STATUS_TRANSITIONS.labels(str(from_status), str(to_status))
        for outcome in ("created", "rejected"):
            metrics.LEAD_IMPORT_ROWS.labels(outcome)
