"""Scrubbing decodes before it matches: one table of secrets as a client can send them, run
through scrub_text, scrub_query_string and every signal.

A case is a secret in one encoding, as it travels on the wire. The signal tests send it in an
allow-listed query parameter and in the path to a view that logs it and raises with it
(tests/observability/scrubbing_urls.py), then look for the secret in any form (raw, decoded,
lower- and upper-case, percent-encoded once or twice, punycode) in what each signal exports:
spans from the OTel SDK's in-memory exporter, JSON and text log lines, Sentry events from the
real SDK. The request goes through Django's WSGIHandler, as under gunicorn, so Sentry's
DjangoIntegration adds the request to the event as in production.

Double encoding: `%2540` is decoded twice, to `@` (scrubbing.MAX_DECODE_ROUNDS). A URL carried
in another URL's query string arrives that way, and a second decoding can only find more.
"""

import io
import json
import logging
import re
import time
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote, quote_plus, unquote, unquote_plus, urlencode

import pytest

from observability import scrubbing
from observability.logging import ContextFilter, TextFormatter
from tests.observability.test_errors import wsgi

FILTERED = scrubbing.FILTERED
KEY = "0f3c5a7e9b1d2f4a6c8e0b2d4f6a8c0e1f3a5b7c"  # the shape of a DRF token: 40 hex digits
UPPER_CASE_KEY = "9E8D7C6B5A4F3E2D1C0B9A8F7E6D5C4B3A2F1E0D"


def fullwidth(text: str) -> str:
    """ASCII as the fullwidth forms U+FF01..U+FF5E, which NFKC maps back."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@dataclass(frozen=True)
class Case:
    name: str
    parameter: str  # the query parameter that carries it
    wire: str  # as sent: percent-encoded where a client would encode it
    secret: str  # what must not leave the process, in any form


CASES = [
    Case("percent-encoded at sign", "ordering", "zelda.pct%40example.com", "zelda.pct@example.com"),
    Case("at sign encoded twice", "page", "zelda.twice%2540example.com", "zelda.twice@example.com"),
    Case("plus for space", "page", f"Token+{KEY}", KEY),
    Case("upper case", "page_size", f"TOKEN%20{UPPER_CASE_KEY}", UPPER_CASE_KEY),
    Case("mixed-case address", "ordering", "Zelda.Mixed%40Example.COM", "Zelda.Mixed@Example.COM"),
    Case(
        "fullwidth at sign",
        "page",
        quote("zelda.wide\uff20example.com"),
        "zelda.wide\uff20example.com",
    ),
    Case(
        "fullwidth address",
        "ordering",
        quote(fullwidth("zelda.wider@example.com")),
        fullwidth("zelda.wider@example.com"),
    ),
    Case(
        "non-ASCII local part",
        "ordering",
        quote("jürgen.case@example.de"),
        "jürgen.case@example.de",
    ),
    Case("address in Chinese script", "page", quote("用户甲@例子.广告"), "用户甲@例子.广告"),
    Case("IDN domain", "ordering", quote("zelda.idn@bücher.example"), "zelda.idn@bücher.example"),
    Case(
        "punycode domain",
        "page",
        "zelda.puny@xn--bcher-kva.example",
        "zelda.puny@xn--bcher-kva.example",
    ),
    Case("DRF token in page", "page", f"Token%20{KEY}", KEY),
    Case("e-mail in ordering", "ordering", "zelda.order@example.com", "zelda.order@example.com"),
    Case("phone in page_size", "page_size", "%2B44%2020%207946%200958", "+44 20 7946 0958"),
    Case("US phone in page_size", "page_size", "(555)%20010-9999", "(555) 010-9999"),
    Case("phone in free text", "note", "call+555.010.9999+today", "555.010.9999"),
]
CASE_IDS = [case.name for case in CASES]


def forms(secret: str) -> set[str]:
    """Every spelling of `secret` a reader could turn back into it."""
    spellings = {secret, unicodedata.normalize("NFKC", secret)}
    for text in list(spellings):
        spellings |= {text.lower(), text.upper(), quote(text, safe=""), quote_plus(text)}
        spellings.add(quote(quote(text, safe=""), safe=""))
    address = unicodedata.normalize("NFKC", secret)
    if "@" in address:
        local_part, domain = address.rsplit("@", 1)
        # A local part left behind is a partial leak: each case's is unique to it.
        spellings |= {local_part, local_part.lower(), f"{local_part}@{punycode(domain)}"}
    elif not re.search("[a-z]", address, re.IGNORECASE):  # a phone number
        spellings.add(re.sub(r"\D", "", address))
        spellings.add(re.search(r"\d+\D+\d+$", address).group())  # its last two groups
    return spellings


def punycode(domain: str) -> str:
    return ".".join(label.encode("idna").decode() for label in domain.split("."))


def assert_no_form_of(secret: str, output: str, where: str) -> None:
    for spelling in forms(secret):
        position = output.find(spelling)
        context = output[max(position - 80, 0) : position + 80]
        assert position == -1, f"{spelling!r} reached {where}: …{context}…"


# -- scrub_text and scrub_query_string, case by case -----------------------------------------


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_scrub_text_leaves_no_form_of_the_secret(case):
    # As sent, as Django decodes it once, and inside a sentence.
    for text in (case.wire, unquote_plus(case.wire), unquote(case.wire), f"I am {case.wire}."):
        scrubbed = scrubbing.scrub_text(text)
        assert FILTERED in scrubbed, text
        assert_no_form_of(case.secret, scrubbed, f"scrub_text({text!r})")


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_scrub_query_string_filters_the_parameter_and_keeps_the_others(case):
    query = f"{case.parameter}={case.wire}&status=new"
    assert scrubbing.scrub_query_string(query) == f"{case.parameter}={FILTERED}&status=new"


def test_a_live_token_in_page_is_filtered_even_as_a_page_number_lookalike():
    assert scrubbing.scrub_query_string(f"page=Token%20{KEY}") == "page=[Filtered]"
    assert scrubbing.scrub_query_string(f"page={KEY}") == "page=[Filtered]"
    assert scrubbing.scrub_query_string(f"status={KEY}") == "status=[Filtered]"


# -- what must stay: scrubbing is no blanket filter --------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "12345",
        "1234567",  # an id or a count without separators: indistinguishable, kept
        "lead 1234567 updated",
        "processed 1500 rows in 2300 ms",
        "1,234,567",
        "1 234 567",
        "duration_ms=1234.567",
        "1800000000.9996",
        "took 12.5 ms, 0.123456789 s",
        "2026-01-01",
        "2026-01-01T00:00:00Z",
        "2026-01-01T12:30:45.123456+01:00",
        "2026-01-01 00:00:00,123 INFO started",
        "01.01.2026",
        "0b5e5c1e-8c4f-4c44-9d0e-2f7a2b7c9e10",
        "12345678-1234-1234-1234-123456789012",
        "/api/v1/leads/0b5e5c1e-8c4f-4c44-9d0e-2f7a2b7c9e10/",
        "4bf92f3577b34da6a3ce929d0e0e4736",  # a trace id
        "192.168.100.200",
        "8000-8080",
        "+01:00",
        "v1.22.333",
        "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0.6099.129 Safari/537.36",
        'SELECT "leads_lead"."id" FROM "leads_lead" WHERE "id" IN (1, 2, 3) LIMIT 21',
        "token count 12",
        "Bearer",
        "GET api/v1/leads/<uuid:pk>/",
        "user@host",  # no dot in the domain: a log's user@host, not an address
        "Grüße aus Köln",
    ],
)
def test_ids_timestamps_uuids_durations_and_counts_stay(text):
    assert scrubbing.scrub_text(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "+44 20 7946 0958",
        "+447946095800",
        "+44 (0)20 7946 0958",
        "(555) 010-9999",
        "555-010-9999",
        "555.010.9999",
        "01 23 45 67 89",
        "tel:+1-555-010-9999",
        "phone=555\u2013010\u20139999",  # en dashes
        fullwidth("+44 20 7946 0958"),
    ],
)
def test_phone_numbers_are_filtered(text):
    scrubbed = scrubbing.scrub_text(f"call {text} now")
    assert scrubbed.startswith("call ")
    assert scrubbed.endswith(" now")
    assert not re.search(r"\d{3}", scrubbed), scrubbed


def test_a_plus_in_an_address_keeps_the_address_whole():
    # `+` read as a space would leave `ada` behind; it is tried as a plus first.
    assert scrubbing.scrub_text("ada+crm@example.com") == FILTERED
    assert scrubbing.scrub_text("search=ada+crm%40example.com") == f"search={FILTERED}"


def test_a_decomposed_accent_is_composed_before_matching():
    assert scrubbing.scrub_text("ju\u0308rgen@example.de") == FILTERED


def test_long_runs_of_word_characters_are_searched_in_linear_time():
    # Text without spaces (Chinese, base64) is one long run of \w. A backtracking search
    # tries every start in it against the `@`, and every end of the domain after it:
    # seconds for these 20 000 characters, where a linear one takes a millisecond.
    text = "a" * 10_000 + "@" + "b" * 10_000 + " and " + "\u7528" * 10_000 + "@x"
    started = time.perf_counter()
    assert scrubbing.scrub_text(text) == text
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize(
    ("parameter", "kept", "filtered"),
    [
        ("page", ["1", "250"], ["1234567", "5550109999", "-1", "2.5", "\uff12", "1 2"]),
        ("page_size", ["50"], ["555-010-9999", "50; drop"]),
        ("ordering", ["-created_at", "last_name,-score", "owner__username"], ["ada@x.example"]),
        ("ordering", [], ["Ada", "created_at;1", "-created_at,"]),
        ("status", ["new", "unqualified", "in-progress", "v2"], [KEY, "555-010-9999", "a b"]),
        ("source", ["referral"], ["x" * 41]),
        ("format", ["csv", "json"], ["c%sv"]),
        ("owner", ["7", "0b5e5c1e-8c4f-4c44-9d0e-2f7a2b7c9e10"], ["ada", "5550109999"]),
        (
            "created_after",
            ["2026-01-01", "2026-01-01T10:00:00Z", "2026-01-01T10:00:00.5+01:00"],
            ["2026-1-1", "yesterday", "2026-01-01T10:00:00 Token"],
        ),
        ("created_before", ["2026-01-01T10:00"], ["01/01/2026"]),
    ],
)
def test_allow_listed_parameters_keep_only_values_of_their_shape(parameter, kept, filtered):
    for value in kept:
        assert scrubbing.scrub_query_string(urlencode({parameter: value})) == urlencode(
            {parameter: value}
        ), value
    for value in filtered:
        query = urlencode({parameter: value})
        assert scrubbing.scrub_query_string(query) == f"{parameter}={FILTERED}", value


def test_every_allow_listed_parameter_has_a_shape():
    assert scrubbing.SAFE_QUERY_VALUE_SHAPES.keys() == scrubbing.SAFE_QUERY_PARAMETERS


def test_a_parameter_name_holding_an_address_is_filtered():
    assert scrubbing.scrub_query_string("zelda%40example.com&page=2") == "[Filtered]=&page=2"


@pytest.mark.parametrize(
    "key", ["e%6Dail", fullwidth("EMAIL"), "user.email", "contact email", "X-Auth+Token"]
)
def test_sensitive_keys_match_however_they_are_spelt(key):
    assert scrubbing.is_sensitive_key(key)


def test_keys_are_scrubbed_as_values_are():
    # Sentry's frame variables: a dict keyed by e-mail address.
    assert scrubbing.scrub({"zelda@example.com": 3, "n": 1}) == {FILTERED: 3, "n": 1}


# -- the same cases through every signal -----------------------------------------------------

SIGNALS = ("spans", "json logs", "text logs", "sentry")
# What each signal must hold for the test to mean anything: the careless view's output.
EVIDENCE = {
    "spans": "cannot handle",
    "json logs": "client said",
    "text logs": "client said",
    "sentry": "cannot handle",
}


@pytest.fixture
def text_logs():
    """Everything logged during the test, through the project's text formatter."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(TextFormatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield buffer
    root.removeHandler(handler)


def send(case: Case) -> str:
    """The case in the path and in its query parameter, beside an allow-listed `status=new`."""
    target = f"/api/v1/echo/{case.wire}/?{case.parameter}={case.wire}&status=new"
    # REQUEST_URI as gunicorn sends it: the OTel instrumentation reads url.path/url.query there.
    response = wsgi("GET", target, REQUEST_URI=target)
    assert response.status_code == 500
    return target


@pytest.fixture
def exported(spans, json_logs, text_logs, sentry_transport):
    """What each signal exported for one request, serialised as it leaves the process."""

    def collect() -> dict[str, str]:
        finished = [json.loads(span.to_json()) for span in spans.get_finished_spans()]
        return {
            # ensure_ascii=False: a non-ASCII secret must show as itself, not as \u escapes.
            "spans": json.dumps(finished, ensure_ascii=False),
            "json logs": json_logs.text,
            "text logs": text_logs.getvalue(),
            "sentry": json.dumps(sentry_transport.events(), ensure_ascii=False, default=str),
        }

    return collect


@pytest.mark.django_db
@pytest.mark.urls("tests.observability.scrubbing_urls")
@pytest.mark.parametrize("signal", SIGNALS)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_no_form_of_the_secret_reaches_any_signal(exported, case, signal):
    send(case)
    output = exported()[signal]
    assert EVIDENCE[signal] in output, f"nothing from the request reached {signal}"
    assert FILTERED in output
    assert_no_form_of(case.secret, output, signal)


@pytest.mark.django_db
@pytest.mark.urls("tests.observability.scrubbing_urls")
@pytest.mark.parametrize(
    "case", [c for c in CASES if c.parameter != "note"], ids=lambda case: case.name
)
def test_the_query_string_keeps_its_names_and_safe_values(spans, sentry_transport, case, json_logs):
    send(case)
    expected = f"{case.parameter}={FILTERED}&status=new"
    server_spans = [s for s in spans.get_finished_spans() if "url.query" in s.attributes]
    assert [s.attributes["url.query"] for s in server_spans] == [expected]
    (event,) = sentry_transport.events()
    assert event["request"]["query_string"] == expected


def test_backslash_escapes_are_undone_before_matching():
    # Django logs the path of a 4xx or 5xx response with non-ASCII characters escaped so.
    assert (
        scrubbing.scrub_text("Not Found: /leads/zelda@b\\xfccher.example/")
        == f"Not Found: /leads/{FILTERED}/"
    )
    # A JSON document logged as text.
    assert scrubbing.scrub_text('{"to": "\\u7528\\u6237@example.com"}') == f'{{"to": "{FILTERED}"}}'
