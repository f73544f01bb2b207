"""What must never leave the process: secrets and lead personal data, by key and by value.

Shared by the span exporter (tracing.py) and Sentry's hooks (errors.py), so both signals
apply one rule. Keys are matched case-insensitively; values are searched for e-mail
addresses and credentials, which also catches them inside free text such as a PostgreSQL
"Key (lower(email))=(ada@example.com) already exists" error message.
"""

import functools
import re
from urllib.parse import parse_qsl, unquote_plus, urlencode

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
# Query parameters known to carry no personal data; any other value is filtered.
SAFE_QUERY_PARAMETERS = frozenset(
    {"status", "source", "owner", "created_after", "created_before", "ordering", "page",
     "page_size", "format"}
)  # fmt: skip

EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
CREDENTIAL = re.compile(r"(?i)\b(token|bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}")


def is_sensitive_key(key) -> bool:
    return isinstance(key, str) and _is_sensitive_name(key)


@functools.lru_cache(maxsize=1024)  # the same keys come back on every log line and span
def _is_sensitive_name(key: str) -> bool:
    """A sensitive key, or a name that ends in one (`X-Password`, `X-Auth-Token`,
    `X-Forwarded-Authorization`, `contact_email`)."""
    name = key.lower().replace("_", "-")
    return name in _NORMALISED_KEYS or any(name.endswith(f"-{k}") for k in _NORMALISED_KEYS)


_NORMALISED_KEYS = frozenset(key.replace("_", "-") for key in SENSITIVE_KEYS)


def scrub_text(text: str) -> str:
    """Replace e-mail addresses and credentials inside free text, percent-encoded ones too
    (`ada%40example.com`, `Token%20<key>`): a text that hides one is scrubbed decoded."""
    if "%" in text or "+" in text:
        decoded = unquote_plus(text)
        if decoded != text:
            scrubbed = _scrub_plain(decoded)
            if scrubbed != decoded:
                return scrubbed
    return _scrub_plain(text)


def _scrub_plain(text: str) -> str:
    if "@" in text:
        text = EMAIL.sub(FILTERED, text)
    # A credential is a keyword, whitespace, then the secret, so text with no whitespace
    # between two words holds none; str.split() and the regex's \s agree on what whitespace
    # is. Most values (paths, routes, ids) are single words and skip the regex.
    if len(text.split(maxsplit=1)) < 2:
        return text
    return CREDENTIAL.sub(lambda match: f"{match.group(1)} {FILTERED}", text)


def scrub_query_string(query: str) -> str:
    """Keep the parameter names; keep values only for SAFE_QUERY_PARAMETERS, and those only
    scrubbed by value (decoded: a token or an e-mail pasted into `page` is still one)."""
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode(
        [
            (name, scrub_text(value) if name in SAFE_QUERY_PARAMETERS else FILTERED)
            for name, value in pairs
        ],
        safe="[]",
    )


def scrub(value):
    """A deep copy of `value` with sensitive keys filtered and every string scrubbed."""
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {
            key: FILTERED if is_sensitive_key(key) and item not in (None, "") else scrub(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(scrub(item) for item in value)
    return value
