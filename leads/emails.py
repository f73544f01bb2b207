"""One spelling per mailbox: the canonical form a lead's e-mail address is stored in.

The unique constraint compares `lower(email)`, which sees `ada@bücher.example` and
`ada@xn--bcher-kva.example`, or a long s (U+017F) and `s`, or fullwidth and plain letters, as
different addresses although they reach the same mailbox. So every write stores the address in
one form and the constraint, unchanged, catches the duplicates:

- the whole address in Unicode NFKC (fullwidth letters and at sign to ASCII, the long s to `s`,
  the Kelvin sign to `K`);
- the domain in its IDNA ASCII form (Punycode), lower-cased: what mail systems send to, and
  ASCII, so the database's `lower()` folds it the same under any collation. Python's `idna`
  codec (IDNA 2003, as Django's own `punycode()`) also case-folds and drops invisible characters
  such as U+200B; it folds `ß` to `ss`, consistent with comparing addresses case-folded;
- the local part keeps its case (mailboxes may be case-sensitive; the constraint ignores case).

Normalising the stored value, rather than keeping the user's spelling beside a normalised key
column, keeps one column, one constraint and one query for the rule; the price is that an IDN
domain reads back as Punycode.
"""

import re
import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models

# IDNA encoding takes time quadratic in a label's length (seconds for a few thousand CJK
# characters, 10 ms for 300), so text longer than any address (RFC 3696, as the EmailValidator
# says) or than any label (RFC 1034) is never encoded: it cannot be valid anyway.
MAX_ADDRESS_LENGTH = 320
MAX_LABEL_LENGTH = 63
LABEL_DOTS = re.compile("[.\u3002\uff0e\uff61]")  # the dots the idna codec splits on


def canonical_email(address: str) -> str:
    """`address` in canonical form. Never raises: text without an `@`, or whose domain IDNA
    cannot spell in ASCII, comes back NFKC-normalised only, and text longer than any address
    comes back as given, for `require_ascii_domain` and the validators to refuse."""
    if len(address) > MAX_ADDRESS_LENGTH:
        return address
    text = unicodedata.normalize("NFKC", address)
    local, at, domain = text.rpartition("@")
    ascii_domain = _ascii_domain(domain) if at else None
    return text if ascii_domain is None else f"{local}@{ascii_domain}"


def _ascii_domain(domain: str) -> str | None:
    """The domain's IDNA ASCII form, lower-cased, or None if it has none."""
    if any(len(label) > MAX_LABEL_LENGTH for label in LABEL_DOTS.split(domain)):
        return None
    try:
        return domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None


def require_ascii_domain(address: str) -> None:
    """Refuse a canonical address whose domain is not ASCII: IDNA could not spell it, so no
    mail system can deliver there, and it has no form to be compared by."""
    if not address.rpartition("@")[2].isascii():
        raise ValidationError(validate_email.message, code="invalid")


class CanonicalEmailFormField(forms.EmailField):
    """The admin's e-mail field: canonical before validation, so its duplicate check and the
    saved value see the stored spelling."""

    def to_python(self, value):
        return canonical_email(super().to_python(value))

    def validate(self, value):
        super().validate(value)
        if value:
            require_ascii_domain(value)  # here, not a validator: one message, not two


class CanonicalEmailField(models.EmailField):
    """An EmailField that stores `canonical_email(value)`, whatever path writes it.

    Django prepares every value it writes or compares exactly (`save`, `bulk_create`,
    `update`, `filter(email=...)`) with `get_prep_value`, which for text fields calls
    `to_python`: canonicalising there covers them all. `full_clean` canonicalises too, and
    refuses an address whose domain has no ASCII form.
    """

    def to_python(self, value):
        value = super().to_python(value)
        return canonical_email(value) if isinstance(value, str) else value

    def validate(self, value, model_instance):
        super().validate(value, model_instance)
        require_ascii_domain(value)  # here, not a validator: one message, not two

    def pre_save(self, model_instance, add):
        # The saved instance then holds what its row holds.
        value = self.to_python(super().pre_save(model_instance, add))
        setattr(model_instance, self.attname, value)
        return value

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": CanonicalEmailFormField, **kwargs})
