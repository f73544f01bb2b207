"""Load a realistic set of demo leads for dashboards and benchmarks (`make demo-data`)."""

import random
import uuid
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from leads.models import Lead, LeadSource, LeadStatus

FIRST_NAMES = [
    "Ada",
    "Alan",
    "Amara",
    "Bao",
    "Carmen",
    "Chidi",
    "Dana",
    "Diego",
    "Elif",
    "Emma",
    "Farah",
    "Gustav",
    "Hana",
    "Ines",
    "Ivan",
    "Jonas",
    "Kai",
    "Leila",
    "Lucas",
    "Maya",
    "Mateo",
    "Nadia",
    "Noah",
    "Olga",
    "Priya",
    "Quinn",
    "Ravi",
    "Sofia",
    "Tariq",
    "Uma",
    "Viktor",
    "Wen",
    "Yara",
]
LAST_NAMES = [
    "Abara",
    "Berg",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Haddad",
    "Ito",
    "Jensen",
    "Kowalski",
    "Larsen",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Quispe",
    "Rossi",
    "Silva",
    "Tanaka",
    "Umar",
    "Varga",
    "Weber",
    "Xu",
    "Yilmaz",
    "Zhang",
]
COMPANIES = [
    "Acme Logistics",
    "Blue Harbor Bank",
    "Cobalt Health",
    "Delta Robotics",
    "Evergreen Foods",
    "Fjord Energy",
    "Granite Insurance",
    "Helix Biotech",
    "Ion Telecom",
    "Juniper Retail",
    "Kestrel Aviation",
    "Lumen Media",
    "Meridian Travel",
    "Nimbus Cloud",
    "Orbit Analytics",
]
TITLES = ["CTO", "VP Sales", "Head of Operations", "Procurement Lead", "CEO", "IT Manager", ""]
# Roughly a real funnel: most leads are early in the pipeline.
STATUS_WEIGHTS = {
    LeadStatus.NEW: 35,
    LeadStatus.CONTACTED: 25,
    LeadStatus.QUALIFIED: 15,
    LeadStatus.UNQUALIFIED: 10,
    LeadStatus.CONVERTED: 8,
    LeadStatus.LOST: 7,
}
SOURCE_WEIGHTS = {
    LeadSource.WEB: 40,
    LeadSource.REFERRAL: 20,
    LeadSource.EVENT: 12,
    LeadSource.ADVERTISING: 15,
    LeadSource.PARTNER: 8,
    LeadSource.OTHER: 5,
}


class Command(BaseCommand):
    help = "Create COUNT demo leads spread over the last 180 days (adds to what is there)."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=3000)
        parser.add_argument("--seed", type=int, default=None, help="For a repeatable data set.")

    def handle(self, *args, count, seed, **options):
        rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
        batch = uuid.uuid4().hex[:8]  # keeps e-mails unique across repeated runs, seeded or not
        owners = list(get_user_model().objects.filter(is_active=True)[:10]) or [None]
        now = timezone.now()
        leads, history = [], []
        for number in range(count):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            company = rng.choice(COMPANIES)
            status = rng.choices(list(STATUS_WEIGHTS), weights=STATUS_WEIGHTS.values())[0]
            created_at = now - timedelta(minutes=rng.randint(0, 180 * 24 * 60))
            leads.append(
                Lead(
                    first_name=first,
                    last_name=last,
                    email=f"{first}.{last}.{batch}{number}@{company.split()[0].lower()}.example",
                    phone=f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
                    company=company,
                    title=rng.choice(TITLES),
                    source=rng.choices(list(SOURCE_WEIGHTS), weights=SOURCE_WEIGHTS.values())[0],
                    status=status,
                    score=rng.randint(0, 100),
                    owner=rng.choice(owners),
                    converted_at=(
                        created_at + timedelta(days=rng.randint(1, 60))
                        if status == LeadStatus.CONVERTED
                        else None
                    ),
                )
            )
            history.append(created_at)
        with transaction.atomic():
            Lead.objects.bulk_create(leads, batch_size=1000)
            # auto_now/auto_now_add stamped "now" on insert; give the leads a real history.
            for lead, created_at in zip(leads, history, strict=True):
                lead.created_at = created_at
                lead.updated_at = lead.converted_at or created_at
            Lead.objects.bulk_update(leads, ["created_at", "updated_at"], batch_size=1000)
        self.stdout.write(self.style.SUCCESS(f"Created {count} demo leads."))
