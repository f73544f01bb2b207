"""Delete expired idempotency keys (run daily: a cron job, or a Kubernetes CronJob)."""

from django.core.management.base import BaseCommand

from idempotency.services import idempotency_keys_purge


class Command(BaseCommand):
    help = "Delete idempotency keys older than IDEMPOTENCY_KEY_TTL (24 hours)."

    def handle(self, *args, **options):
        deleted = idempotency_keys_purge()
        self.stdout.write(f"Deleted {deleted} expired idempotency keys.")
