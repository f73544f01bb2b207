"""The lead API's response bodies, byte for byte, against golden copies.

Performance work on the read path (leads/api: the read serializer, the renderer, the token
lookup, filtering only where it narrows a list) must not change a single byte a client
receives: key order, number and date formats, escaping (U+2028 and U+2029 as \\u2028 and
\\u2029, everything else non-ASCII as UTF-8, compact separators), pagination links. Every
case below runs against fixed data (fixed ids, users, timestamps, a frozen clock) and
compares the exact bytes with tests/leads/golden/<case>.json (or .csv).

The golden copies were written by the code before that work. To regenerate them, on purpose,
after a deliberate change of the API's output:

    REGENERATE_GOLDEN=1 .venv/bin/pytest tests/leads/test_identical_output.py

and review the diff of tests/leads/golden/ like any other change of the contract.
"""

import datetime
import os
import uuid
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from leads.models import Lead

pytestmark = pytest.mark.django_db

GOLDEN = Path(__file__).parent / "golden"
REGENERATE = os.environ.get("REGENERATE_GOLDEN") == "1"
LEADS = "/api/v1/leads/"
TOKEN = "0123456789abcdef0123456789abcdef01234567"
OWNER_ID, ACTOR_ID = 7001, 7002
NOW = datetime.datetime(2024, 5, 6, 7, 8, 9, 654321, tzinfo=datetime.UTC)
CREATED_ID = "<the created lead's id>"  # uuid4, made by the code: replaced before comparing


def lead_id(number: int) -> uuid.UUID:
    return uuid.UUID(f"00000000-0000-4000-8000-{number:012d}")


def at(day: int, hour: int = 9, microsecond: int = 0) -> datetime.datetime:
    return datetime.datetime(2024, 3, day, hour, 0, 0, microsecond, tzinfo=datetime.UTC)


# Text that stresses the encoder: JSON's own escapes, control characters, U+2028 and U+2029
# (which DRF's renderer escapes), non-ASCII in and beyond the BMP, HTML.
AWKWARD_NOTES = (
    'line\u2028separator\u2029paragraph "quoted" back\\slash\ttab\nnew line\r'
    "\x01\x1f\x7f del, caf\u00e9, \u00fcml\u00e4ut, \u6771\u4eac, \U0001f680 </script>&<'"
)
LEADS_DATA = [
    # number, fields, created_at, updated_at
    (
        1,
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@example.com",
            "phone": "+44 20 7946 0000",
            "company": "Analytical Engines Ltd",
            "title": "Countess",
            "source": "web",
            "status": "new",
            "score": 97,
            "owner_id": OWNER_ID,
            "created_by_id": ACTOR_ID,
        },
        at(1, microsecond=123456),
        at(2),
    ),
    (
        2,
        {
            "first_name": "Zo\u00eb",
            "last_name": "\u00dcn\u00efc\u00f6d\u00e9-\u00c7a",
            "email": "zo\u00eb@xn--bcher-kva.example",
            "phone": "",
            "company": "\u682a\u5f0f\u4f1a\u793e \u00dcn\u00efc\u00f6d\u00e9 \U0001f680",
            "title": 'The "Chief" \\ Officer </script>',
            "source": "referral",
            "status": "contacted",
            "score": 50,
            "notes": AWKWARD_NOTES,
        },
        at(2, microsecond=1),
        at(3, microsecond=999999),
    ),
    (
        3,
        {
            "first_name": "Grace",
            "last_name": "Hopper",
            "email": "grace@navy.example",
            "company": "US Navy",
            "title": "Rear Admiral",
            "source": "event",
            "status": "qualified",
            "score": 88,
            "owner_id": OWNER_ID,
            "created_by_id": ACTOR_ID,
            "updated_by_id": OWNER_ID,
        },
        at(3),
        at(4, 12, 500000),
    ),
    (
        4,
        {
            "first_name": "Alan",
            "last_name": "Turing",
            "email": "alan@bletchley.example",
            "source": "partner",
            "status": "converted",
            "score": 100,
            "converted_at": at(5, 15, 42),
        },
        at(4),
        at(5, 15, 42),
    ),
    (
        5,
        {
            "first_name": "Lost",
            "last_name": "Cause",
            "email": "LOST@Example.com",
            "source": "advertising",
            "status": "lost",
            "score": 0,
        },
        at(5),
        at(5),
    ),
    (
        6,
        {
            "first_name": "Una",
            "last_name": "Qualified",
            "email": "una@example.org",
            "source": "other",
            "status": "unqualified",
            "score": 12,
            "owner_id": OWNER_ID,
        },
        at(6),
        at(6),
    ),
    (
        7,  # same created_at as 6: the id breaks the tie
        {
            "first_name": "Seven",
            "last_name": "Samecreated",
            "email": "seven@example.org",
            "source": "web",
            "status": "new",
            "score": 33,
        },
        at(6),
        at(7),
    ),
    (
        8,  # soft-deleted: in no list, restorable
        {
            "first_name": "Deleted",
            "last_name": "Person",
            "email": "gone@example.com",
            "source": "web",
            "status": "new",
            "score": 5,
            "deleted_at": at(8),
        },
        at(7),
        at(8),
    ),
]

NEW_LEAD = {
    "first_name": "N\u00e9w",
    "last_name": "L\u00ebad \U0001f600",
    "email": "new.lead@B\u00fccher.example",
    "phone": "+49 30 1234567",
    "company": "Neue GmbH\u2028Zeile",
    "title": "CTO",
    "source": "event",
    "score": 42,
    "owner": OWNER_ID,
    "notes": AWKWARD_NOTES,
}

# name: (method, path, body, status, extra headers)
CASES = {
    "list-default": ("get", LEADS, None, 200, {}),
    "list-page-size-50": ("get", f"{LEADS}?page_size=50", None, 200, {}),
    "list-page-1": ("get", f"{LEADS}?page_size=3", None, 200, {}),
    "list-page-2": ("get", f"{LEADS}?page=2&page_size=3", None, 200, {}),
    "list-page-3": ("get", f"{LEADS}?page_size=3&page=3&ordering=score", None, 200, {}),
    "list-filters": (
        "get",
        f"{LEADS}?status=new&status=contacted&source=web&source=referral&ordering=-score",
        None,
        200,
        {},
    ),
    "list-owner-and-dates": (
        "get",
        f"{LEADS}?owner={OWNER_ID}&created_after=2024-03-01T00:00:00Z"
        "&created_before=2024-03-06T09:30:00%2B01:00&page_size=2",
        None,
        200,
        {},
    ),
    # Same case as the data: SQLite folds the case of ASCII letters only.
    "list-search-non-ascii": ("get", f"{LEADS}?search=n%C3%AFc%C3%B6d", None, 200, {}),
    "list-search-and-ordering": (
        "get",
        f"{LEADS}?search=example&ordering=last_name,-created_at&page_size=2&page=2",
        None,
        200,
        {},
    ),
    "list-ordering-updated": ("get", f"{LEADS}?ordering=-updated_at", None, 200, {}),
    "list-empty": ("get", f"{LEADS}?status=lost&source=web", None, 200, {}),
    **{
        f"retrieve-{number}": ("get", f"{LEADS}{lead_id(number)}/", None, 200, {})
        for number in range(1, 8)
    },
    "create": ("post", LEADS, NEW_LEAD, 201, {}),
    "create-idempotent": ("post", LEADS, NEW_LEAD, 201, {"HTTP_IDEMPOTENCY_KEY": "golden-1"}),
    "partial-update": (
        "patch",
        f"{LEADS}{lead_id(1)}/",
        {"notes": "N\u00f6tes\u2029\u2028", "score": 12, "owner": None},
        200,
        {},
    ),
    "update": (
        "put",
        f"{LEADS}{lead_id(2)}/",
        {**NEW_LEAD, "email": "zoe@example.com", "owner": None},
        200,
        {},
    ),
    "transition-converted": (
        "post",
        f"{LEADS}{lead_id(3)}/transition/",
        {"status": "converted"},
        200,
        {},
    ),
    "transition-qualified": (
        "post",
        f"{LEADS}{lead_id(2)}/transition/",
        {"status": "qualified"},
        200,
        {},
    ),
    "restore": ("post", f"{LEADS}{lead_id(8)}/restore/", None, 200, {}),
    "stats-filtered": ("get", f"{LEADS}stats/?source=web&source=referral", None, 200, {}),
    "export-filtered": ("get", f"{LEADS}export/?status=new&ordering=score", None, 200, {}),
}


@pytest.fixture
def frozen_clock(monkeypatch):
    """timezone.now() as the code calls it (auto_now, converted_at, the export's file name)."""
    monkeypatch.setattr(timezone, "now", lambda: NOW)


@pytest.fixture
def golden_client(frozen_clock):
    users = get_user_model().objects
    users.create(pk=OWNER_ID, username="owner-7001", email="owner@staff.example")
    actor = users.create(pk=ACTOR_ID, username="actor-7002", email="actor@staff.example")
    Token.objects.create(key=TOKEN, user=actor)
    for number, fields, created_at, updated_at in LEADS_DATA:
        Lead.objects.create(id=lead_id(number), **fields)
        # auto_now and auto_now_add overrule values given to save(); update() does not.
        Lead.objects.filter(pk=lead_id(number)).update(created_at=created_at, updated_at=updated_at)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {TOKEN}")
    return client


def request(client, method, path, body, headers):
    if body is None:
        return getattr(client, method)(path, **headers)
    return getattr(client, method)(path, body, format="json", **headers)


def compare(name: str, content: bytes, suffix: str = ".json") -> None:
    path = GOLDEN / f"{name}{suffix}"
    if REGENERATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_bytes(content)
    assert content == path.read_bytes(), f"{name}: the body differs from {path.name}"


@pytest.mark.parametrize("name", list(CASES))
def test_body_is_byte_identical(golden_client, name):
    method, path, body, status, headers = CASES[name]
    response = request(golden_client, method, path, body, headers)
    if name.startswith("export"):
        assert response.status_code == status
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert response["Content-Disposition"] == (
            'attachment; filename="leads-20240506-070809.csv"'
        )
        compare(name, b"".join(response.streaming_content), ".csv")
        return
    assert response.status_code == status, response.content
    content = response.content
    assert response["Content-Type"] == "application/json"
    if name.startswith("create"):
        created = response.json()["id"]
        assert response["Location"] == f"http://testserver{LEADS}{created}/"
        content = content.replace(created.encode(), CREATED_ID.encode())
    compare(name, content)


def test_an_idempotent_replay_is_byte_identical(golden_client):
    """The replay is re-rendered from the stored answer: the same bytes again."""
    method, path, body, status, headers = CASES["create-idempotent"]
    first = request(golden_client, method, path, body, headers)
    replay = request(golden_client, method, path, body, headers)
    assert replay["Idempotent-Replayed"] == "true"
    assert (first.status_code, replay.status_code) == (status, status)
    assert replay.content == first.content


def test_the_fixture_holds_what_the_golden_copies_claim():
    """U+2028/U+2029 and text beyond ASCII and the BMP are really in the data and requests."""
    for text in (AWKWARD_NOTES, NEW_LEAD["company"]):
        assert "\u2028" in text
    assert "\u2029" in AWKWARD_NOTES
    assert any(ord(char) > 0xFFFF for char in AWKWARD_NOTES)
    raw = (GOLDEN / "retrieve-2.json").read_bytes()
    assert b"\\u2028" in raw
    assert b"\\u2029" in raw
    assert "\u00eb".encode() in raw
    assert b'"id":"00000000-0000-4000-8000-000000000002"' in raw  # compact separators
