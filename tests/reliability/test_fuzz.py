"""Schemathesis fuzzes every operation of /api/schema/, authenticated, against the real app.

Through Django's WSGI handler in this process (real PostgreSQL, the test's transaction), so
the real SDKs' captures apply: whatever the fuzzer sends, there is

- no 5xx, and every response conforms to the schema (status, content type, headers, body):
  schemathesis' own checks, positive and negative data;
- no secret (the API token) and no lead personal data (e-mail, phone, names of the leads in
  the database or in the request) in the JSON logs, the exported spans or Sentry events.

Examples per operation: FUZZ_MAX_EXAMPLES, phases FUZZ_PHASES, seed FUZZ_SEED (see below;
`make fuzz` runs a long randomised session).
"""

import json
import os
import re
import uuid

import pytest
import schemathesis
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import override_settings
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis.core.failures import AcceptedNegativeData, FailureGroup
from schemathesis.openapi.checks import RejectedPositiveData

from tests.factories import LeadFactory, UserFactory

pytestmark = [pytest.mark.django_db]

# CI: every operation, examples and random fuzzing, a fixed seed (a failure reproduces, the
# run takes about a minute). `make fuzz`: the coverage phase too (boundary values for every
# parameter), many more examples and a new seed each time.
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "50"))
PHASES = os.environ.get("FUZZ_PHASES", "examples,fuzzing").split(",")
SEED = os.environ.get("FUZZ_SEED", "20261127")
SEEDED_LEADS = 5
# Values this short could appear in a log line by chance (a digit run in a timestamp).
MIN_TRACKED_LENGTH = 8


class Secrets:
    """What must never leave the process: the token, the personal data of the leads created for
    the run, and e-mail addresses and phone numbers the fuzzer sent. (Not every string it
    generated: an arbitrary "created_by" may well be a column name in a span's SQL.)"""

    def __init__(self, token: str):
        self.values = {token}

    def track_lead(self, lead) -> None:
        self.values |= {getattr(lead, name) for name in ("email", "phone", "first_name",
                                                          "last_name")}  # fmt: skip

    def track(self, data) -> None:
        if isinstance(data, dict):
            email, phone = data.get("email"), data.get("phone")
            if isinstance(email, str) and "@" in email and len(email) >= MIN_TRACKED_LENGTH:
                self.values.add(email)
            if isinstance(phone, str) and sum(map(str.isdigit, phone)) >= MIN_TRACKED_LENGTH:
                self.values.add(phone)  # digits make it a number, not "updated_by"
        elif isinstance(data, list):
            for item in data:
                self.track(item)

    def found_in(self, text: str) -> set[str]:
        return {value for value in self.values if value in text}


def load_schema() -> schemathesis.schemas.BaseSchema:
    """The schema the app serves at /api/schema/, fetched through the app itself at collection
    (no database needed: drf-spectacular builds it from the code)."""
    # The host schemathesis' client sends; plain HTTP, as tests/conftest.py sets for tests.
    with override_settings(ALLOWED_HOSTS=["localhost"], SECURE_SSL_REDIRECT=False):
        return schemathesis.openapi.from_wsgi("/api/schema/?format=json", WSGIHandler())


schema = load_schema()
schema.config.phases.update(phases=PHASES)
if SEED != "random":
    schema.config.seed = int(SEED)


def is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return LEAD_IDS != []


LEAD_IDS: list[str] = []  # the current test's seeded leads, for the hook below


@schema.hook("flatmap_path_parameters")
def existing_leads_too(context, path_parameters):
    """Random UUIDs only ever reach the 404 branch: half the time, use a real lead instead of
    a well-formed random one (a malformed id is a negative case and stays as it is)."""
    if not (isinstance(path_parameters, dict) and is_uuid(path_parameters.get("id"))):
        return st.just(path_parameters)
    real = st.sampled_from(list(LEAD_IDS)).map(lambda pk: {**path_parameters, "id": pk})
    return st.one_of(st.just(path_parameters), real)


@pytest.fixture
def fuzz_state(db, settings, spans, sentry_transport, json_logs):
    """Seeded leads, a token, the captures, and an app built after tracing instrumented
    Django (so its middleware chain has the OTel middleware, as under gunicorn)."""
    settings.ALLOWED_HOSTS = ["localhost"]
    user = UserFactory(username="fuzzer")
    token = Token.objects.create(user=user).key
    # Distinctive names: Faker's surnames include "Le" and "Ng", which any span's text may
    # contain by chance (a fuzzed `?ordering=Le` is kept, it is a safe parameter).
    leads = [
        LeadFactory(
            first_name=f"Seededfirst{n}",
            last_name=f"Seededlast{n}",
            email=f"seeded.person{n}@fuzz-customer.example",
            phone=f"+44 20 7946 {n:04d}",
        )
        for n in range(SEEDED_LEADS)
    ]
    LEAD_IDS[:] = [str(lead.pk) for lead in leads]
    secrets = Secrets(token)
    for lead in leads:
        secrets.track_lead(lead)
    # As Django's test client does: requests run inside the test's transaction, so they must
    # not close "old" connections at their start and end.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield {
            "app": WSGIHandler(),
            "token": token,
            "user_id": user.pk,
            "secrets": secrets,
            "captures": (spans, sentry_transport, json_logs),
        }
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
        LEAD_IDS.clear()


def exported_text(spans) -> str:
    return "\n".join(span.to_json() for span in spans.get_finished_spans())


def satisfiable(case, owner_id: int) -> None:
    """What a schema cannot say: an e-mail must be unused among live leads, an owner must
    exist, an Idempotency-Key names one operation, text holds no NUL and a name is more than
    whitespace. Valid (positive) cases are made so, and a 4xx on them means the schema and the
    app disagree, not that the fuzzer hit a rule no schema can state."""
    if case.meta is None or not all(
        info.mode.is_positive for info in [case.meta.generation, *case.meta.components.values()]
    ):
        return
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = str(uuid.uuid4())  # one key per operation
    for name, value in (case.query or {}).items():
        if isinstance(value, str):
            case.query[name] = value.replace("\x00", "")
        elif isinstance(value, list):
            case.query[name] = [v.replace("\x00", "") if isinstance(v, str) else v for v in value]
    form = case.media_type in FORM_MEDIA_TYPES
    for row in case.body if isinstance(case.body, list) else [case.body]:
        if isinstance(row, dict):
            if isinstance(row.get("email"), str):
                row["email"] = unique_email()
            if row.get("owner") is not None:
                row["owner"] = owner_id
            for name, value in list(row.items()):
                if isinstance(value, str) and "\x00" in value:
                    # JSON Schema strings allow NUL, PostgreSQL text cannot hold it: the API
                    # refuses it with a 400 (tests/reliability/test_properties.py proves that).
                    row[name] = value.replace("\x00", "")
                if name in REQUIRED_TEXT and isinstance(value, str) and not value.strip():
                    # DRF trims text, so only-whitespace is blank, which "minLength: 1" on a
                    # JSON Schema string cannot say.
                    row[name] = "Fuzz"
                if form and value is None:  # a form field cannot say null; absent = default
                    del row[name]


REQUIRED_TEXT = {"first_name", "last_name"}
FORM_MEDIA_TYPES = {"multipart/form-data", "application/x-www-form-urlencoded"}


def unique_email() -> str:
    return f"fuzz-{uuid.uuid4().hex[:16]}@fuzz-lead.example"


INVALID_QUERY_PARAMETERS = re.compile(r"Invalid component: parameters? (.+?) in query")
IMPORT_FILE_MEDIA_TYPES = {"text/csv", "multipart/form-data"}


def is_tolerated(failure, case) -> bool:
    """Verdicts that are not disagreements between the app and its schema, each on purpose.

    - `?created_before=` means "no filter", as django-filter and HTML forms have it, although
      the schema's date-time format does not allow an empty string.
    - A `page_size` DRF cannot use gives the default page (DRF's convention, pinned by
      tests/security/test_input_limits.py), though the schema says "integer".
    - An import's CSV (a `text/csv` body or the multipart `file`) is "a string" to a schema,
      which cannot say "a CSV file whose header names lead fields": whether the fuzzer's
      string should be accepted is unknowable here. tests/reliability/test_properties.py
      fuzzes CSV content instead; no-5xx and response conformance still apply here.
    """
    if isinstance(failure, AcceptedNegativeData):
        found = INVALID_QUERY_PARAMETERS.search(failure.message)
        names = re.findall(r"`([^`]+)`", found.group(1)) if found else []
        query = case.query or {}
        if names and all(name == "page_size" or query.get(name) in ("", [""]) for name in names):
            return True
    return (
        isinstance(failure, AcceptedNegativeData | RejectedPositiveData)
        and case.path.endswith("/import/")
        and case.media_type in IMPORT_FILE_MEDIA_TYPES
    )


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_conforms_and_leaks_nothing(case, fuzz_state):
    cache.clear()  # one user, many requests: the per-user throttle is not under test here
    satisfiable(case, fuzz_state["user_id"])
    secrets = fuzz_state["secrets"]
    secrets.track(case.body)
    spans, sentry_transport, json_logs = fuzz_state["captures"]
    transport = {"headers": {"Authorization": f"Token {fuzz_state['token']}"},
                 "app": fuzz_state["app"]}  # fmt: skip

    response = case.call(**transport)

    assert response.status_code < 500, response.text[:500]
    leaked = {
        "logs": secrets.found_in(json_logs.text),
        "spans": secrets.found_in(exported_text(spans)),
        "sentry": secrets.found_in(json.dumps(sentry_transport.events(), default=str)),
    }
    assert leaked == {"logs": set(), "spans": set(), "sentry": set()}
    try:
        case.validate_response(response, headers=transport["headers"], transport_kwargs=transport)
    except FailureGroup as group:
        failures = [f for f in group.exceptions if not is_tolerated(f, case)]
        if failures:
            raise FailureGroup(failures, str(group)) from None
