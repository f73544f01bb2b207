"""What must never leave the process: secrets and lead personal data, by key and by value.

Shared by the span exporter (tracing.py), Sentry's hooks (errors.py) and the log formatters
(logging.py), so every signal applies one rule. Keys are matched case-insensitively; values
are searched for e-mail addresses, phone numbers and credentials, which also catches them
inside free text such as a PostgreSQL "Key (lower(email))=(ada@example.com) already exists"
error message.

Decoded before matched. A value is searched in the form its reader would see: percent-decoded
and backslash escapes undone (up to MAX_DECODE_ROUNDS times), NFKC-normalised (a fullwidth at
sign, U+FF20, is `@`), with `+` read as a space as well as a plus, and without regard to case.
When something is found, the decoded text is returned with each match replaced, so the secret
leaves in no form, raw or encoded; a text in which nothing is found is returned as it was.
"""

import functools
import re
import unicodedata
from urllib.parse import parse_qsl, unquote, urlencode

FILTERED = "[Filtered]"

# Lead personal fields and credentials, wherever they appear as a key.
SENSITIVE_KEYS = frozenset(
    {
        "email", "phone", "first_name", "last_name",
        "authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key",
        "x-csrftoken", "csrftoken", "csrfmiddlewaretoken", "sessionid", "token",
        "password", "secret", "api_key", "apikey", "access_token", "refresh_token",
    }
)  # fmt: skip
# Query parameters known to carry no personal data; any other value is filtered, and theirs
# too unless it has the parameter's shape (SAFE_QUERY_VALUE_SHAPES below).
SAFE_QUERY_PARAMETERS = frozenset(
    {"status", "source", "owner", "created_after", "created_before", "ordering", "page",
     "page_size", "format"}
)  # fmt: skip

# A URL carried in another URL's query string (a redirect target, a `next=`) arrives encoded
# twice, `%2540` for `@`, and a proxy's record of it may add a third layer. Decoding again
# only ever finds more: a false match costs a filtered value, a missed one a leak.
MAX_DECODE_ROUNDS = 3
# Backslash escapes as Python's unicode_escape and JSON write them: Django logs the path of a
# 4xx or 5xx request so (`/leads/ada@b\xfccher.example/`), and a JSON document logged as text
# holds `\u00fc`. Surrogates stay escaped: a lone one cannot be written out as UTF-8.
_BACKSLASH_ESCAPE = re.compile(r"\\(?:x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8}))")

# \w is Unicode: `jürgen@example.de`, an address in Chinese script and IDN domains (their
# Unicode form or punycode, `xn--bcher-kva.example`) are addresses too. The ideographic full
# stop U+3002 separates IDN labels as `.` does, and NFKC keeps it. The lookbehind and the
# possessive `++` change no match; they keep the search linear in a long run of word
# characters (Chinese or Japanese text has no spaces), which backtracking makes quadratic.
EMAIL = re.compile(r"(?<![\w.%+'-])[\w.%+'-]++@[\w-]++(?:[.\u3002][\w-]++)++")
# Case-insensitive (re folds Unicode case): the match offsets are those of the text itself,
# which keeps its case, where a case-folded copy could differ in length.
CREDENTIAL = re.compile(r"(?i)\b(token|bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}")
# Digits in groups, as people write phone numbers: `+44 20 7946 0958`, `+447946095800`,
# `(555) 010-9999`, `555-010-9999`, `555.010.9999`. Without a `+` or an area code in brackets
# it takes three to six groups of two digits or more, so a decimal (`1234.567`), a range
# (`8000-8080`), a version (`120.0.6099.129`), an id or a count stays; _is_phone_number then
# lets dates, IPv4 addresses and the wrong numbers of digits go. Never inside a longer token
# (a UUID, an id), never followed by `:` (the hour of a timestamp) or by more of a dotted or
# dashed number. A count written in groups (`12 345 678`) looks like one and is filtered too.
# Every quantifier is possessive: a run of digits is never split, and a failed match is not
# retried group by group (exponential in the groups).
_SEPARATOR = r"[ .\-\u2010-\u2015]"  # NFKC keeps the Unicode dashes
PHONE = re.compile(
    rf"""
    (?<![\w+.\-)])
    (?:
        \+\d{{1,3}}+(?:{_SEPARATOR}?+(?:\(\d{{1,5}}+\)|\d{{1,8}}+)){{1,6}}+
      | \(\d{{1,5}}+\){_SEPARATOR}?+\d{{1,8}}+(?:{_SEPARATOR}\d{{1,8}}+){{0,4}}+
      | \d{{2,5}}+(?:{_SEPARATOR}\d{{2,8}}+){{2,5}}+
    )
    (?![\w:@]|{_SEPARATOR}\d)
    """,
    re.VERBOSE,
)
PHONE_DIGITS = range(7, 16)  # E.164 numbers have at most 15 digits
_DATE = re.compile(r"\d{4}([./-])\d\d?\1\d\d?(?!\d)|\d\d?([./-])\d\d?\2\d{4}(?!\d)")
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")

# Cheap tests that rule a phone number out, before PHONE's search (several times their cost).
# ASCII text is mapped in C, byte for byte, to its shape: each digit `0`, each separator `-`.
# Every phone number above has seven digits and `+0`, `(0` or `00-00` in its shape (then
# _DIGIT_GROUPS looks for the third group). Other text: seven digits in any script.
_PHONE_SHAPE = bytes.maketrans(b"123456789 .", b"000000000--")
_DIGIT_GROUPS = re.compile(r"[0-9][0-9][ .\-][0-9][0-9]++[ .\-][0-9][0-9]")
_SEVEN_DIGITS = re.compile(r"(?:\D*+\d){7}")

# Most values: ASCII word characters and punctuation that no pattern or encoding uses, with
# at most six digits. No whitespace (a credential is a keyword, a space, the secret), no `@`,
# `%`, `+`, backslash or brackets, too few digits for a phone number: a route, a key, a dotted
# name, a number. One regex call answers for them.
_NO_DIGIT = r"[A-Za-z_/:,;=#&*!?|~^$<>\[\]{}\"'`.-]*+"
_NOTHING_TO_FIND = re.compile(rf"(?:{_NO_DIGIT}[0-9]){{0,6}}+{_NO_DIGIT}")


def is_sensitive_key(key) -> bool:
    return isinstance(key, str) and _is_sensitive_name(key)


@functools.lru_cache(maxsize=1024)  # the same keys come back on every log line and span
def _is_sensitive_name(key: str) -> bool:
    """A sensitive key, or a name that ends in one (`X-Password`, `X-Auth-Token`,
    `X-Forwarded-Authorization`, `contact_email`, `user.email`), however it is spelt: decoded,
    NFKC-normalised and case-folded (`e%6Dail`, `EMAIL` in fullwidth letters)."""
    name = _KEY_SEPARATORS.sub("-", _decoded(key).replace("+", " ").casefold())
    return name in _NORMALISED_KEYS or any(name.endswith(f"-{k}") for k in _NORMALISED_KEYS)


_KEY_SEPARATORS = re.compile(r"[\s._]")
_NORMALISED_KEYS = frozenset(key.replace("_", "-") for key in SENSITIVE_KEYS)


def scrub_text(text: str) -> str:
    """Replace e-mail addresses, phone numbers and credentials inside free text, however they
    are encoded (`ada%40example.com`, `Token+<key>`, a fullwidth at sign): searched in the
    decoded text, which is what is returned, scrubbed, when something was found."""
    if _NOTHING_TO_FIND.fullmatch(text):
        return text
    plain = text.isascii() and "%" not in text and "\\" not in text
    decoded = text if plain else _decoded(text)
    scrubbed = _scrub_plain(decoded)
    if "+" in scrubbed:
        scrubbed = _scrub_with_plus_as_space(scrubbed)
    return text if scrubbed == decoded else scrubbed


def _decoded(text: str) -> str:
    """Percent-decoded, unescaped and NFKC-normalised, in turns until nothing changes: a
    decoded value can be encoded again, and NFKC makes a `%` of a fullwidth one. `+` stays a
    `+` here."""
    for _ in range(MAX_DECODE_ROUNDS):
        decoded = unquote(text) if "%" in text else text
        if "\\" in decoded:
            decoded = _BACKSLASH_ESCAPE.sub(_unescaped, decoded)
        if not decoded.isascii():
            decoded = unicodedata.normalize("NFKC", decoded)
        if decoded == text:
            break
        text = decoded
    return text


def _unescaped(match: re.Match) -> str:
    code = int(match.group(match.lastindex), 16)
    return match.group() if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF else chr(code)


def _scrub_with_plus_as_space(text: str) -> str:
    """`+` is a space in a query string or a form body (`Token+<key>`) and part of an address
    elsewhere (`ada+crm@example.com`). The text was scrubbed with `+` kept, which took such
    an address whole; what is left is scrubbed again with `+` read as a space."""
    spaced = text.replace("+", " ")
    scrubbed = _scrub_plain(spaced)
    return text if scrubbed == spaced else scrubbed


def _scrub_plain(text: str) -> str:
    if "@" in text:
        text = EMAIL.sub(FILTERED, text)
    # A credential is a keyword, whitespace, then the secret, so text with no whitespace
    # between two words holds none; str.split() and the regex's \s agree on what whitespace
    # is. Most values (paths, routes, ids) are single words and skip the regex.
    if len(text.split(maxsplit=1)) == 2:
        text = CREDENTIAL.sub(lambda match: f"{match.group(1)} {FILTERED}", text)
    if _may_hold_phone_number(text):
        text = PHONE.sub(_filter_phone_number, text)
    return text


def _may_hold_phone_number(text: str) -> bool:
    if not text.isascii():
        return _SEVEN_DIGITS.match(text) is not None
    shape = text.encode().translate(_PHONE_SHAPE)
    if shape.count(b"0") < PHONE_DIGITS.start:
        return False
    # A one-character `in` is a memchr; the others cost more, so they come last.
    if ("+" in text or "(" in text) and (b"+0" in shape or b"(0" in shape):
        return True
    return b"00-00" in shape and _DIGIT_GROUPS.search(text) is not None


def _filter_phone_number(match: re.Match) -> str:
    return FILTERED if _is_phone_number(match.group()) else match.group()


def _is_phone_number(candidate: str) -> bool:
    if sum(character.isdigit() for character in candidate) not in PHONE_DIGITS:
        return False
    return not (_DATE.match(candidate) or _IPV4.fullmatch(candidate))


def scrub_query_string(query: str) -> str:
    """Keep the parameter names; keep values only for SAFE_QUERY_PARAMETERS, and those only
    when they have the parameter's shape (a token pasted into `page` is `page=[Filtered]`)."""
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode(
        [(_scrubbed_name(name), _scrubbed_query_value(name, value)) for name, value in pairs],
        safe="[]",
    )


def _scrubbed_name(name: str) -> str:
    # A name is data when a client puts an address where a name goes (`?ada@example.com`).
    if name in SAFE_QUERY_PARAMETERS or scrub_text(name) == name:
        return name
    return FILTERED


def _scrubbed_query_value(name: str, value: str) -> str:
    has_shape = SAFE_QUERY_VALUE_SHAPES.get(name)
    return value if value == "" or (has_shape and has_shape(value)) else FILTERED


def _fullmatch(pattern: str):
    return re.compile(pattern, re.ASCII).fullmatch


# The shapes hold nothing scrub_text would find: no `@`, no whitespace, and digits only too few
# for a phone number (seven or more could be one written without separators) or in a UUID's or
# a date's groups; a choice is scrubbed to be sure.
_is_small_number = _fullmatch(r"[0-9]{1,6}")
_is_uuid = _fullmatch(r"(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# `2026-01-01`, `2026-01-01T10:00:00.5+01:00`; an unencoded `+` arrives as a space.
_is_iso_date = _fullmatch(
    r"\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:\.\d{1,9})?)?(?:Z|[+ -]\d\d(?::?\d\d)?)?)?"
)
_is_field_list = _fullmatch(r"-?[a-z_]+(?:,-?[a-z_]+)*")
_is_token = _fullmatch(r"[A-Za-z0-9_-]{1,40}")


def _is_choice(value: str) -> bool:
    """A choice's value (`new`, `referral`, `csv`): a short token of words. A DRF key is a
    token too, 40 hexadecimal digits, but no choice has a run of 16 letters and digits mixed;
    and a phone number with dashes is a token, but not a choice."""
    if _is_token(value) is None:
        return False
    if any(len(run) >= 16 and not run.isalpha() for run in re.split(r"[_-]", value)):
        return False
    return scrub_text(value) == value


def _is_owner(value: str) -> bool:
    return bool(_is_small_number(value) or _is_uuid(value))


SAFE_QUERY_VALUE_SHAPES = {
    "page": _is_small_number,
    "page_size": _is_small_number,
    "ordering": _is_field_list,
    "status": _is_choice,
    "source": _is_choice,
    "format": _is_choice,
    "owner": _is_owner,
    "created_after": _is_iso_date,
    "created_before": _is_iso_date,
}


def scrub(value):
    """A deep copy of `value` with sensitive keys filtered and every string scrubbed, keys
    included (Sentry's frame variables can hold a dict keyed by e-mail address)."""
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return dict(_scrubbed_item(key, item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return type(value)(scrub(item) for item in value)
    return value


def _scrubbed_item(key, item) -> tuple:
    if not isinstance(key, str):
        return key, scrub(item)
    if is_sensitive_key(key) and item not in (None, ""):
        return _scrubbed_key(key), FILTERED
    return _scrubbed_key(key), scrub(item)


# The same keys come back on every log line, span and event.
_scrubbed_key = functools.lru_cache(maxsize=1024)(scrub_text)
