"""A bounded soak: mixed API traffic against 2 gunicorn workers on real PostgreSQL.

SOAK_SECONDS long (20 by default in CI; `make soak` runs 60) with SOAK_CLIENTS concurrent
clients, each creating leads, listing, retrieving and moving its own leads along the pipeline.
Afterwards: no 5xx and no connection error, every lead acknowledged with 201 exists once with
the fields sent, and every lead is in the status its last acknowledged transition reported.
The figures (requests, rps, p50/p95/p99, 5xx, lost writes) are printed for the record.
"""

import json
import os
import random
import statistics
import threading
import time
import uuid
from collections import Counter

import pytest
from django.db.models import Count

from leads.models import ALLOWED_TRANSITIONS, Lead, LeadStatus
from tests.servers import free_port, gunicorn, http_request, migrated_database_url, server_env

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SOAK_SECONDS = float(os.environ.get("SOAK_SECONDS", "20"))
SOAK_CLIENTS = int(os.environ.get("SOAK_CLIENTS", "4"))
# list, create, retrieve, transition
WEIGHTS = {"list": 40, "create": 25, "retrieve": 20, "transition": 15}


class SoakClient:
    """One client: sequential requests, its own leads, what it was told about them."""

    def __init__(self, base: str, token: str, seed: int):
        self.base = base
        self.random = random.Random(seed)  # noqa: S311 - reproducible traffic, not a secret
        self.headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
        self.latencies: list[float] = []
        self.statuses: Counter = Counter()
        self.errors: list[str] = []
        self.created: dict[str, dict] = {}  # id -> fields sent, acknowledged with 201
        self.status_of: dict[str, str] = {}  # id -> status last reported by the API
        self.moves: list[tuple[str, str]] = []  # (from, to) of every acknowledged transition

    def call(self, method: str, path: str, payload=None) -> tuple[int, dict | None]:
        body = json.dumps(payload).encode() if payload is not None else None
        started = time.perf_counter()
        try:
            status, content, _ = http_request(
                method, self.base + path, body, self.headers, timeout=30
            )
        except OSError as error:
            self.errors.append(f"{method} {path}: {type(error).__name__}")
            return 0, None
        self.latencies.append((time.perf_counter() - started) * 1000)
        self.statuses[status] += 1
        try:
            return status, json.loads(content) if content else None
        except ValueError:
            return status, None

    def create(self) -> None:
        fields = {
            "first_name": "Soak",
            "last_name": uuid.uuid4().hex[:8],
            "email": f"soak-{uuid.uuid4().hex}@load.example",
            "source": self.random.choice(["web", "referral", "event"]),
            "score": self.random.randint(0, 100),
        }
        status, body = self.call("POST", "/api/v1/leads/", fields)
        if status == 201:
            self.created[body["id"]] = fields
            self.status_of[body["id"]] = body["status"]

    def retrieve(self) -> None:
        if self.created:
            self.call("GET", f"/api/v1/leads/{self.random.choice(list(self.created))}/")

    def transition(self) -> None:
        if not self.created:
            return
        lead_id = self.random.choice(list(self.created))
        to_status = self.random.choice(LeadStatus.values)  # allowed or not: both are answers
        status, body = self.call("POST", f"/api/v1/leads/{lead_id}/transition/",
                                 {"status": to_status})  # fmt: skip
        if status == 200:
            self.moves.append((self.status_of[lead_id], body["status"]))
            self.status_of[lead_id] = body["status"]

    def run(self, until: float) -> None:
        actions = [getattr(self, name) if name != "list" else self.list for name in WEIGHTS]
        while time.monotonic() < until:
            self.random.choices(actions, weights=list(WEIGHTS.values()))[0]()

    def list(self) -> None:
        ordering = self.random.choice(["-created_at", "score", "-updated_at", "last_name"])
        self.call("GET", f"/api/v1/leads/?page_size=20&ordering={ordering}")


def test_mixed_traffic_soak_has_no_5xx_and_loses_no_write(server_token, capsys):
    env = server_env(DATABASE_URL=migrated_database_url(), API_THROTTLE_USER_RATE="10000000/minute")
    port = free_port()
    with gunicorn(env, port, workers=2):
        base = f"http://127.0.0.1:{port}"
        clients = [SoakClient(base, server_token, seed) for seed in range(SOAK_CLIENTS)]
        started = time.monotonic()
        threads = [
            threading.Thread(target=client.run, args=(started + SOAK_SECONDS,))
            for client in clients
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=SOAK_SECONDS + 60)
        elapsed = time.monotonic() - started

    latencies = sorted(ms for client in clients for ms in client.latencies)
    statuses = sum((client.statuses for client in clients), Counter())
    errors = [error for client in clients for error in client.errors]
    created = {lead_id: fields for client in clients for lead_id, fields in client.created.items()}
    stored = {str(lead.pk): lead for lead in Lead.objects.filter(pk__in=list(created))}
    lost = sorted(set(created) - set(stored))
    quantiles = statistics.quantiles(latencies, n=100)
    with capsys.disabled():
        print(
            f"\nsoak: {SOAK_SECONDS:g} s, {SOAK_CLIENTS} clients, 2 workers: "
            f"{len(latencies)} requests, {len(latencies) / elapsed:.0f} rps, "
            f"p50 {quantiles[49]:.1f} ms, p95 {quantiles[94]:.1f} ms, p99 {quantiles[98]:.1f} ms, "
            f"statuses {dict(sorted(statuses.items()))}, "
            f"5xx {sum(n for s, n in statuses.items() if s >= 500)}, "
            f"connection errors {len(errors)}, acknowledged creates {len(created)}, "
            f"lost writes {len(lost)}"
        )

    assert len(latencies) > 10 * SOAK_SECONDS, "too little traffic to prove anything"
    assert errors == []
    assert set(statuses) <= {200, 201, 409}, statuses  # 409: a move the pipeline refuses
    assert lost == []
    for lead_id, fields in created.items():
        lead = stored[lead_id]
        assert {name: getattr(lead, name) for name in fields} == fields
    assert not Lead.objects.values("email").annotate(n=Count("id")).filter(n__gt=1).exists()
    # Each client moved only its own leads, one request at a time: every acknowledged move
    # was an allowed edge, and the last status it was told is the one stored.
    for client in clients:
        assert all(to in ALLOWED_TRANSITIONS[start] for start, to in client.moves)
        for lead_id, status in client.status_of.items():
            assert stored[lead_id].status == status
