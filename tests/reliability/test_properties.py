"""Properties that hold for any input, checked with Hypothesis against real PostgreSQL.

- The status pipeline: whatever moves are requested, in whatever order, the lead only ever
  travels along ALLOWED_TRANSITIONS; a refused move (409, or 400 for an unknown status) is a
  problem+json and changes nothing.
- Imports: any bytes as a CSV body, any JSON as rows, any text in any encoding: never a 5xx,
  always all or nothing, values stored exactly as given, and the export neutralises every cell
  a spreadsheet would run as a formula.

Example counts come from the Hypothesis profile (tests/reliability/conftest.py).
"""

import csv
import io
import uuid

import pytest
from django.core.cache import cache
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leads import csv_io
from leads.models import ALLOWED_TRANSITIONS, EDITABLE_FIELDS, Lead, LeadStatus
from leads.services import LeadImportError
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

# Each example runs in the test's transaction and makes its own leads: nothing it does can
# leak into the next example's assertions, so sharing the function-scoped db is fine.
with_db = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])

IMPORT_URL = "/api/v1/leads/import/"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TEXT_FIELDS = {"first_name", "last_name", "email", "phone", "company", "title", "notes"}


def fresh_throttle() -> None:
    """Examples run back to back for one user: start each with an empty throttle history
    (the per-user rate is not what these tests are about)."""
    cache.clear()


def assert_problem(response, status: int) -> None:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == status


def snapshot(lead_id) -> tuple:
    lead = Lead.objects.get(pk=lead_id)
    return (lead.status, lead.converted_at, lead.updated_at, lead.updated_by_id)


# --- The status pipeline ------------------------------------------------------------------

REQUESTS = st.lists(
    st.one_of(st.sampled_from(LeadStatus.values), st.text(max_size=12)), max_size=12
)


@with_db
@given(requests=REQUESTS)
def test_any_requested_moves_follow_only_allowed_edges(api_client, requests):
    fresh_throttle()
    lead = LeadFactory(status=LeadStatus.NEW)
    status = LeadStatus.NEW
    for to_status in requests:
        before = snapshot(lead.pk)
        response = api_client.post(
            f"/api/v1/leads/{lead.pk}/transition/", {"status": to_status}, format="json"
        )
        if to_status in ALLOWED_TRANSITIONS[status]:
            assert response.status_code == 200, response.content
            assert response.json()["status"] == to_status
            status = to_status
        else:
            # Unknown statuses are invalid input; known but not allowed ones a conflict.
            assert_problem(response, 409 if to_status in LeadStatus.values else 400)
            assert snapshot(lead.pk) == before  # nothing changed, not even updated_at
        stored = Lead.objects.get(pk=lead.pk)
        assert stored.status == status
        assert (stored.converted_at is not None) == (status == LeadStatus.CONVERTED)


@with_db
@given(requests=st.lists(st.sampled_from(LeadStatus.values), max_size=12))
def test_the_service_refuses_exactly_what_the_table_forbids(requests):
    """The same rule one layer down, with every status reachable from `new` explored."""
    from common.problems import ConflictError
    from leads import services

    lead = LeadFactory(status=LeadStatus.NEW)
    for to_status in requests:
        from_status = Lead.objects.get(pk=lead.pk).status
        before = snapshot(lead.pk)
        try:
            services.lead_transition(lead=lead, actor=None, to_status=to_status)
        except ConflictError:
            assert to_status not in ALLOWED_TRANSITIONS[from_status]
            assert snapshot(lead.pk) == before
        else:
            assert to_status in ALLOWED_TRANSITIONS[from_status]
            assert Lead.objects.get(pk=lead.pk).status == to_status


# --- The CSV reader on its own --------------------------------------------------------------


@given(data=st.binary(max_size=2000))
def test_any_bytes_are_rows_or_an_import_error(data):
    try:
        rows = csv_io.read_lead_rows(data)
    except LeadImportError:
        return
    for row in rows:
        assert set(row) <= set(EDITABLE_FIELDS)
        assert all(isinstance(value, str) and value != "" for value in row.values())


# --- Imports through the API ----------------------------------------------------------------

# Cell text as people paste it: formulas, quotes, separators, line breaks, non-ASCII, NUL,
# fields over the column's length; the named ones first, so they are drawn often.
AWKWARD = st.sampled_from(
    ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1:A2)", '=HYPERLINK("x")', "\t=1", "\r=1",
     "a,b", 'say "hi"', "line\nbreak", "Zoë Ångström", "nul\x00byte", "x" * 150]
)  # fmt: skip
CELL = st.one_of(
    AWKWARD,
    st.text(max_size=40),
    st.builds(lambda prefix, text: prefix + text, st.sampled_from(FORMULA_STARTS), st.text()),
)
NAME = st.one_of(AWKWARD, st.text(min_size=1, max_size=20)).filter(str.strip)
COLUMNS = st.lists(
    st.one_of(st.sampled_from(EDITABLE_FIELDS), st.text(max_size=10)), min_size=1, max_size=6
)


def unique_email(tag: str) -> str:
    return f"{tag}-{uuid.uuid4().hex[:10]}@import.example"


@st.composite
def csv_imports(draw):
    """(CSV text, expected rows): a header of columns (some maybe unknown or repeated), then
    rows whose cells are arbitrary text; most rows get a fresh valid e-mail so that valid
    imports happen too."""
    columns = draw(COLUMNS)
    if draw(st.booleans()):
        columns = ["first_name", "last_name", "email", *columns]
    rows = []
    for _ in range(draw(st.integers(0, 4))):
        row = [draw(CELL) for _ in columns]
        for index, column in enumerate(columns):
            if column == "email" and draw(st.integers(0, 4)):
                row[index] = unique_email("csv")
            elif column in {"first_name", "last_name"} and draw(st.integers(0, 2)):
                row[index] = draw(NAME)
        rows.append(row)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue()


def assert_all_or_nothing(response, count_before: int) -> list[str]:
    """The import answered without a 5xx and either created every row or nothing."""
    assert response.status_code < 500, response.content[:500]
    if response.status_code == 201:
        ids = response.json()["ids"]
        assert Lead.objects.count() == count_before + len(ids)
        return ids
    assert response.status_code in {400, 409, 413, 415}, response.content[:500]
    assert response["Content-Type"] == "application/problem+json"
    assert Lead.objects.count() == count_before
    return []


def exported(api_client, leads) -> dict[str, dict[str, str]]:
    """The CSV export's rows for `leads`, by id."""
    response = api_client.get("/api/v1/leads/export/")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(text, newline=""))}
    return {str(lead.pk): rows[str(lead.pk)] for lead in leads}


def assert_stored_as_given_and_exported_safely(api_client, ids, given_rows) -> None:
    leads = [Lead.objects.get(pk=pk) for pk in ids]
    for lead, row in zip(leads, given_rows, strict=True):
        for column, value in row.items():
            if column in TEXT_FIELDS and isinstance(value, str):
                assert getattr(lead, column) == value  # stored exactly as given
    for pk, cells in exported(api_client, leads).items():
        lead = Lead.objects.get(pk=pk)
        for column, cell in cells.items():
            value = getattr(lead, column) if column in TEXT_FIELDS else None
            if isinstance(value, str) and value.startswith(FORMULA_STARTS):
                assert cell == "'" + value
            assert not cell.startswith(FORMULA_STARTS), (column, cell)


@with_db
@given(text=csv_imports(), encoding=st.sampled_from(["utf-8", "utf-8-sig"]))
def test_any_csv_import_is_all_or_nothing_and_exports_safely(api_client, text, encoding):
    fresh_throttle()
    count_before = Lead.objects.count()
    response = api_client.generic(
        "POST", IMPORT_URL, text.encode(encoding), content_type="text/csv"
    )
    ids = assert_all_or_nothing(response, count_before)
    if ids:
        rows = csv_io.read_lead_rows(text.encode(encoding))
        assert_stored_as_given_and_exported_safely(api_client, ids, rows)


@with_db
@given(text=csv_imports(), encoding=st.sampled_from(["latin-1", "utf-16", "utf-16-le", "cp1252"]))
def test_a_csv_in_another_encoding_is_refused_unless_it_is_also_utf8(api_client, text, encoding):
    fresh_throttle()
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        return  # not representable in that encoding: nobody could send it
    count_before = Lead.objects.count()
    response = api_client.generic("POST", IMPORT_URL, data, content_type="text/csv")
    ids = assert_all_or_nothing(response, count_before)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        assert not ids
        assert_problem(response, 400)
        assert "UTF-8" in response.json()["detail"]


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def json_rows(draw):
    """A list of rows: mostly valid leads with awkward text, some with wrong fields or values,
    now and then not a lead at all, so that both outcomes of an import happen often."""
    rows = []
    for _ in range(draw(st.integers(0, 4))):
        shape = draw(st.integers(0, 9))
        if shape == 0:
            rows.append(draw(JSON_VALUES))
            continue
        row = {"first_name": draw(NAME), "last_name": draw(NAME), "email": unique_email("json")}
        for name in draw(st.lists(st.sampled_from(["phone", "company", "title", "notes"]),
                                  max_size=3)):  # fmt: skip
            row[name] = draw(NAME)
        if shape == 1:
            name = draw(st.sampled_from([*EDITABLE_FIELDS, "status", "id"]))
            row[name] = draw(st.one_of(CELL, JSON_VALUES))
        rows.append(row)
    return rows


@with_db
@given(rows=json_rows())
def test_any_json_import_is_all_or_nothing(api_client, rows):
    fresh_throttle()
    count_before = Lead.objects.count()
    response = api_client.post(IMPORT_URL, rows, format="json")
    ids = assert_all_or_nothing(response, count_before)
    if ids:
        assert len(ids) == len(rows)
        assert_stored_as_given_and_exported_safely(api_client, ids, rows)


# --- The named awkward cases, each once -----------------------------------------------------


@pytest.mark.parametrize(
    ("data", "status"),
    [
        ("first_name,last_name,email\nZoë,Ångström,z@x.example\n".encode("latin-1"), 400),
        ("first_name,last_name,email\nZoë,Ångström,z@x.example\n".encode("utf-16"), 400),
        ("first_name,last_name,email\nZoë,Ångström,z@x.example\n".encode("utf-8-sig"), 201),
        (b"first_name,last_name,email\nA,B,a@x.example\n\xff\xfe", 400),
        (b"first_name,last_name,email\n" + b"A" * 200_000 + b",B,c@x.example\n", 400),  # field
        (b"first_name,last_name,notes,email\nA,B," + b"n" * 100_000 + b",d@x.example\n", 201),
        (b'first_name,last_name,email\n"A,B,e@x.example\n', 400),  # unterminated quote
        (b"first_name,last_name,email\nA\x00,B,f@x.example\n", 400),  # NUL
        (b"first_name,last_name,email\n", 400),  # no rows
        (b"", 400),
    ],
)
def test_awkward_csv_files(api_client, data, status):
    count_before = Lead.objects.count()
    response = api_client.generic("POST", IMPORT_URL, data, content_type="text/csv")
    assert response.status_code == status, response.content[:300]
    assert_all_or_nothing(response, count_before)


@pytest.mark.parametrize("value", ["=cmd|' /C calc'!A0", "+41 44 000 00 00", "-1", "@here"])
def test_formula_values_are_stored_as_given_and_neutralised_in_the_export(api_client, value):
    email = unique_email("formula")
    text = f'first_name,last_name,company,email\n"{value}",Last,"{value}",{email}\n'
    response = api_client.generic("POST", IMPORT_URL, text.encode(), content_type="text/csv")
    assert response.status_code == 201, response.content
    lead = Lead.objects.get(email=email)
    assert (lead.first_name, lead.company) == (value, value)
    row = exported(api_client, [lead])[str(lead.pk)]
    assert row["first_name"] == row["company"] == "'" + value
