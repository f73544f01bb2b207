"""Idempotency-Key on lead create and import: a retry replays the first success and writes
nothing; other content under the same key is a 422; a duplicate in flight is a 409, never a
second lead; refusals leave the key free; keys are per user and expire after 24 hours."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.client import encode_multipart
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from idempotency.models import IdempotencyKey
from leads.models import Lead
from tests.factories import UserFactory
from tests.leads.api import assert_problem, new_lead

pytestmark = pytest.mark.django_db

LEADS = "/api/v1/leads/"
IMPORT = f"{LEADS}import/"
KEY = "5f0c9a9e-3c1b-4d47-9a53-0d1f3c2b7e11"


def create(client, body=None, key=KEY, **extra):
    return client.post(LEADS, body or new_lead(), format="json", HTTP_IDEMPOTENCY_KEY=key, **extra)


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


# --- Replay ------------------------------------------------------------------------------------


def test_a_retry_replays_the_first_answer_and_creates_nothing(api_client):
    first = create(api_client)
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first
    retry = create(api_client)
    assert retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.content == first.content  # byte for byte
    assert retry["Content-Type"] == first["Content-Type"]
    assert Lead.objects.count() == 1


def test_a_retry_replays_even_after_the_lead_changed(api_client):
    """The stored answer is what the first request got, not the lead as it is now."""
    first = create(api_client)
    Lead.objects.update(first_name="Changed")
    assert create(api_client).json() == first.json()
    assert Lead.objects.get().first_name == "Changed"


def test_the_answer_is_stored_with_the_lead_in_one_transaction(api_client, user):
    create(api_client)
    stored = IdempotencyKey.objects.get(user=user, key=KEY)
    assert stored.response_status == 201
    assert str(Lead.objects.get().pk) in stored.response_body


def test_json_whitespace_does_not_make_another_request(api_client):
    create(api_client)
    retry = api_client.post(
        LEADS,
        '{ "email" : "ada@example.com", "last_name": "Lovelace",\n "first_name": "Ada" }',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=KEY,
    )
    assert retry["Idempotent-Replayed"] == "true"
    assert Lead.objects.count() == 1


def test_no_key_no_memory(api_client):
    api_client.post(LEADS, new_lead(), format="json")
    again = api_client.post(LEADS, new_lead(), format="json")
    assert_problem(again, 400)  # the duplicate e-mail: the request really ran again
    assert not IdempotencyKey.objects.exists()


# --- Mismatch, scope, validation ---------------------------------------------------------------


def test_the_same_key_with_another_body_is_422(api_client):
    create(api_client)
    body = assert_problem(create(api_client, new_lead(email="grace@example.com")), 422)
    assert body["type"].endswith("/idempotency-key-reused")
    assert Lead.objects.count() == 1


def test_the_same_key_on_another_endpoint_is_422(api_client):
    create(api_client)
    response = api_client.post(
        IMPORT, [new_lead(email="grace@example.com")], format="json", HTTP_IDEMPOTENCY_KEY=KEY
    )
    assert_problem(response, 422)
    assert Lead.objects.count() == 1


def test_keys_belong_to_their_user(api_client):
    create(api_client)
    other = client_for(UserFactory())
    # Another user's same key is a key of their own: no 422, no replay of someone else's answer.
    response = create(other, new_lead(email="grace@example.com"))
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert Lead.objects.count() == 2


def test_anonymous_requests_with_a_key_are_401(anon_client):
    assert_problem(create(anon_client), 401)
    assert not Lead.objects.exists()
    assert not IdempotencyKey.objects.exists()


@pytest.mark.parametrize(
    "key",
    ["", "k" * 256, "tab\tkey", "line\nbreak", "ключ", "\x00"],
    ids=["empty", "256-chars", "tab", "newline", "non-ascii", "nul"],
)
def test_invalid_keys_are_400_and_change_nothing(api_client, key):
    body = assert_problem(create(api_client, key=key), 400)
    assert body["type"].endswith("/invalid-idempotency-key")
    assert not Lead.objects.exists()
    assert not IdempotencyKey.objects.exists()


@pytest.mark.parametrize("key", ["k", "k" * 255, "order 42: retry #1 {~}"])
def test_valid_keys_are_accepted(api_client, key):
    assert create(api_client, key=key).status_code == 201


# --- Refusals do not burn the key --------------------------------------------------------------


def test_a_refused_request_leaves_the_key_free_for_the_corrected_one(api_client):
    refused = create(api_client, new_lead(email="not an e-mail"))
    assert_problem(refused, 400)
    assert_problem(create(api_client, new_lead(email="not an e-mail")), 400)  # not replayed
    corrected = create(api_client, new_lead())
    assert corrected.status_code == 201
    assert "Idempotent-Replayed" not in corrected
    assert create(api_client, new_lead())["Idempotent-Replayed"] == "true"
    assert Lead.objects.count() == 1


def test_a_refused_import_rolls_back_and_frees_the_key(api_client):
    rows = [new_lead(), new_lead(email="grace@example.com", score=101)]
    response = api_client.post(IMPORT, rows, format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    assert_problem(response, 400)
    rows[1]["score"] = 100
    response = api_client.post(IMPORT, rows, format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    assert response.status_code == 201
    assert Lead.objects.count() == 2


# --- Imports -----------------------------------------------------------------------------------


def test_a_retried_json_import_replays(api_client):
    rows = [new_lead(), new_lead(email="grace@example.com")]
    first = api_client.post(IMPORT, rows, format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    retry = api_client.post(IMPORT, rows, format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert Lead.objects.count() == 2


def test_a_retried_upload_replays_whatever_its_multipart_boundary(api_client):
    """curl picks a new boundary for every upload: the fingerprint is the file, not the bytes."""
    csv = b"first_name,last_name,email\nAda,Lovelace,ada@example.com\n"

    def upload(boundary: str):
        body = encode_multipart(boundary, {"file": SimpleUploadedFile("leads.csv", csv)})
        return api_client.post(
            IMPORT,
            body,
            content_type=f"multipart/form-data; boundary={boundary}",
            HTTP_IDEMPOTENCY_KEY=KEY,
        )

    first, retry = upload("first-boundary"), upload("another-boundary-123")
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.content == first.content
    assert Lead.objects.count() == 1


# --- Expiry ------------------------------------------------------------------------------------


def test_an_expired_key_is_ignored_and_purged(api_client, user):
    create(api_client)
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=24, seconds=1))
    # Past 24 hours the key is new again: other content is no 422 but a new lead.
    response = create(api_client, new_lead(email="grace@example.com"))
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert IdempotencyKey.objects.filter(user=user).count() == 1  # the old record is gone


def test_a_key_inside_its_24_hours_is_kept(api_client):
    create(api_client)
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=23, minutes=59))
    assert create(api_client)["Idempotent-Replayed"] == "true"


def test_the_purge_command_deletes_only_expired_keys(user, capsys):
    old = timezone.now() - timedelta(hours=25)
    others = [UserFactory(), UserFactory()]
    for n, owner in enumerate([user, *others]):
        IdempotencyKey.objects.create(
            user=owner, key=f"old-{n}", fingerprint="f", response_status=201, response_body="{}"
        )
        IdempotencyKey.objects.create(
            user=owner, key=f"new-{n}", fingerprint="f", response_status=201, response_body="{}"
        )
    IdempotencyKey.objects.filter(key__startswith="old-").update(created_at=old)
    call_command("purge_idempotency_keys")
    assert "Deleted 3 expired idempotency keys." in capsys.readouterr().out
    assert sorted(IdempotencyKey.objects.values_list("key", flat=True)) == [
        "new-0",
        "new-1",
        "new-2",
    ]


# --- Schema ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [LEADS, IMPORT])
def test_the_schema_documents_the_header_and_its_problems(path):
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"][path]["post"]
    (header,) = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
    assert header["in"] == "header"
    assert header.get("required", False) is False
    assert header["schema"]["maxLength"] == 255
    assert {"400", "409", "422"} <= set(operation["responses"])
    for method, operation in schema["paths"][f"{LEADS}{{id}}/"].items():
        names = {p["name"] for p in operation.get("parameters", [])}
        assert "Idempotency-Key" not in names, method


# --- Concurrency (real PostgreSQL) -------------------------------------------------------------


def wait_for_a_lock_wait() -> None:
    """Until some other backend of this database waits on a lock (the request in flight)."""
    with connection.cursor() as cursor:
        for _ in range(500):
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database() AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.01)
    raise AssertionError("the first request never started waiting")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_duplicate_in_flight_is_409_then_the_retry_replays(user):
    """The first request is held inside its transaction (its INSERT waits behind a rival's
    uncommitted lead with the same e-mail); the duplicate meanwhile gets 409, not a second lead."""
    rival_inserted, release_rival = threading.Event(), threading.Event()

    def rival():
        from django.db import transaction

        try:
            with transaction.atomic():
                Lead.objects.bulk_create([Lead(first_name="R", last_name="R", email="ada@x.io")])
                rival_inserted.set()
                release_rival.wait(10)
                transaction.set_rollback(True)  # then the first request's INSERT goes through
        finally:
            connection.close()

    def first_request():
        try:
            return create(client_for(user), new_lead(email="ADA@x.io"))
        finally:
            connection.close()

    with ThreadPoolExecutor(2) as pool:
        rival_done = pool.submit(rival)
        assert rival_inserted.wait(10)
        first = pool.submit(first_request)
        wait_for_a_lock_wait()
        duplicate = create(client_for(user), new_lead(email="ADA@x.io"))
        release_rival.set()
        first = first.result(timeout=10)
        rival_done.result(timeout=10)

    body = assert_problem(duplicate, 409)
    assert body["type"].endswith("/idempotency-key-in-use")
    assert first.status_code == 201, first.content
    retry = create(client_for(user), new_lead(email="ADA@x.io"))
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.content == first.content
    assert Lead.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_duplicates_create_exactly_one_lead(user):
    writers = 6
    barrier = threading.Barrier(writers)
    client = client_for(user)  # the token, created before the threads start

    def send():
        own = APIClient()
        own.credentials(**client._credentials)
        barrier.wait()
        try:
            return create(own)
        finally:
            connection.close()

    with ThreadPoolExecutor(writers) as pool:
        responses = list(pool.map(lambda _: send(), range(writers)))

    statuses = sorted(r.status_code for r in responses)
    originals = [r for r in responses if r.status_code == 201 and "Idempotent-Replayed" not in r]
    assert len(originals) == 1, statuses
    for response in responses:
        if response.status_code == 201:
            assert response.content == originals[0].content
        else:
            assert_problem(response, 409)
    assert Lead.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1
