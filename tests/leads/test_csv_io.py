"""Export cells a spreadsheet could run as a formula get a leading apostrophe; nothing else does."""

import datetime
import uuid

import pytest

from leads.csv_io import neutralise_cell

# (stored value, exported cell). Escapes, not the characters: the invisible and fullwidth ones
# are the point and must not be mistaken for what they look like.
CELLS = [
    # Formula characters first, as before.
    ("=1+1", "'=1+1"),
    ("+1 555", "'+1 555"),
    ("-5", "'-5"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"),
    ("|calc", "'|calc"),
    # Invisible or blank characters before one.
    ("\u200b=1+1", "'\u200b=1+1"),  # zero-width space
    ("\ufeff=1+1", "'\ufeff=1+1"),  # byte order mark
    ("\u3000=1+1", "'\u3000=1+1"),  # ideographic space
    (" =1+1", "' =1+1"),
    ("\u00a0+1", "'\u00a0+1"),  # no-break space
    ("  \t -5", "'  \t -5"),
    ("\n@SUM(A1)", "'\n@SUM(A1)"),
    ("\u2028=1", "'\u2028=1"),  # line separator
    # Fullwidth formula characters, alone or after blanks.
    ("\uff1d1+1", "'\uff1d1+1"),  # fullwidth equals
    ("\uff0b1", "'\uff0b1"),  # fullwidth plus
    ("\uff0d5", "'\uff0d5"),  # fullwidth minus
    ("\uff20SUM(A1)", "'\uff20SUM(A1)"),  # fullwidth at
    ("\u3000\uff1d1", "'\u3000\uff1d1"),
    # Harmless: left exactly as stored.
    ("Acme", "Acme"),
    ("Jean-Luc", "Jean-Luc"),
    ("a|b", "a|b"),
    ("1+1", "1+1"),
    ("ada@example.com", "ada@example.com"),
    (" Acme", " Acme"),
    ("\u00a0Acme", "\u00a0Acme"),
    ("\u200bAcme", "\u200bAcme"),
    ("\uff21cme", "\uff21cme"),  # fullwidth A
    ("\u00a8=", "\u00a8="),  # diaeresis: NFKC makes it a space and a combining mark, not "="
    ("", ""),
    ("   ", "   "),
    ("'=already quoted", "'=already quoted"),
]


@pytest.mark.parametrize(("stored", "exported"), CELLS)
def test_neutralise_cell(stored, exported):
    assert neutralise_cell(stored) == exported


@pytest.mark.parametrize(
    ("value", "exported"),
    [
        (None, ""),
        (42, "42"),
        (-3, "'-3"),
        (datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC), "2026-01-02T03:04:05+00:00"),
        (uuid.UUID(int=0), "00000000-0000-0000-0000-000000000000"),
    ],
)
def test_non_text_values(value, exported):
    assert neutralise_cell(value) == exported
