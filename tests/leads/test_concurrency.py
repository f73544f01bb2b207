"""Concurrent writers on real PostgreSQL: the database and row locks keep the rules."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from common.problems import ConflictError
from leads import services
from leads.models import Lead, LeadStatus

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WRITERS = 8


def run_together(*calls):
    """Run each call on its own thread and connection, released together by a barrier."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        try:
            return call()
        except Exception as error:  # the outcome is what the test inspects
            return error
        finally:
            connection.close()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_concurrent_creates_with_one_email_make_exactly_one_lead(user):
    def create(number):
        return lambda: services.lead_create(
            actor=None,
            first_name="Ada",
            last_name=str(number),
            email="ADA@example.com" if number % 2 else "ada@EXAMPLE.com",
        )

    outcomes = run_together(*(create(n) for n in range(WRITERS)))
    created = [o for o in outcomes if isinstance(o, Lead)]
    refused = [o for o in outcomes if isinstance(o, ValidationError)]
    assert len(created) == 1
    assert len(refused) == WRITERS - 1, outcomes
    assert all(list(error.message_dict) == ["email"] for error in refused)
    assert Lead.objects.count() == 1


def test_insert_that_loses_the_race_at_the_database_is_a_400_on_email():
    """The writer's check passes (the other row is not committed yet); the unique index decides."""
    inserted, done = threading.Event(), threading.Event()

    def rival():
        with transaction.atomic():
            Lead.objects.bulk_create(
                [Lead(first_name="R", last_name="R", email="race@example.com")]
            )
            inserted.set()
            # Commit only once the service's INSERT waits on our uncommitted index entry.
            with connection.cursor() as cursor:
                for _ in range(200):
                    cursor.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND datname = current_database() AND pid <> pg_backend_pid()"
                    )
                    if cursor.fetchone()[0]:
                        break
                    time.sleep(0.01)
                else:
                    raise AssertionError("the service never reached its INSERT")

    def rival_thread():
        try:
            rival()
        finally:
            connection.close()

    def writer():
        inserted.wait(5)
        try:
            return services.lead_create(
                actor=None, first_name="W", last_name="W", email="RACE@example.com"
            )
        except ValidationError as error:
            return error
        finally:
            connection.close()
            done.set()

    with ThreadPoolExecutor(2) as pool:
        rival_result = pool.submit(rival_thread)
        outcome = pool.submit(writer).result(timeout=10)
        rival_result.result(timeout=10)
    assert isinstance(outcome, ValidationError)
    assert outcome.message_dict == {"email": [services.DUPLICATE_EMAIL]}
    assert Lead.objects.count() == 1


def test_concurrent_conflicting_transitions_let_exactly_one_win(lead_factory):
    lead = lead_factory(status=LeadStatus.QUALIFIED)
    # From qualified both moves are allowed, but neither is allowed after the other.
    outcomes = run_together(
        lambda: services.lead_transition(lead=lead, actor=None, to_status=LeadStatus.CONVERTED),
        lambda: services.lead_transition(lead=lead, actor=None, to_status=LeadStatus.UNQUALIFIED),
    )
    winners = [o for o in outcomes if isinstance(o, Lead)]
    assert len(winners) == 1
    assert sum(isinstance(o, ConflictError) for o in outcomes) == 1, outcomes
    assert Lead.objects.get(pk=lead.pk).status == winners[0].status
