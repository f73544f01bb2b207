"""Leads as CSV, both ways: reading an import file and streaming an export safely.

Exports neutralise cells that a spreadsheet would run as a formula (OWASP "CSV injection"):
values are stored exactly as given and only the exported cell gets a leading apostrophe.
"""

import csv
import io
import unicodedata
from collections.abc import Iterable, Iterator

from leads.models import EDITABLE_FIELDS, Lead
from leads.services import LeadImportError

EXPORT_COLUMNS = ("id", *EDITABLE_FIELDS, "status", "created_at", "updated_at", "converted_at")
FORMULA_PREFIXES = ("=", "+", "-", "@", "|", "\t", "\r")
# What spreadsheets skip before they look for a formula character: spaces (NBSP, U+3000),
# invisible format characters (zero-width space, BOM) and control characters (which include the
# tab and CR above, so those are checked before skipping).
SKIPPED_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cf", "Cc"})
# NFKC of the first few visible characters is enough to read a fullwidth equals sign (U+FF1D),
# plus, minus or at sign as the ASCII one.
PROBE_LENGTH = 8


def _skip_invisible(text: str) -> str:
    for index, char in enumerate(text):
        if unicodedata.category(char) not in SKIPPED_CATEGORIES:
            return text[index:]
    return ""


def starts_like_formula(text: str) -> bool:
    """Whether a spreadsheet might read `text` as a formula: it starts with a formula
    character, or does once leading blanks and invisible characters are skipped and the rest is
    read in NFKC (the form a spreadsheet may fold fullwidth characters to)."""
    if text.startswith(FORMULA_PREFIXES):
        return True
    visible = _skip_invisible(text)[:PROBE_LENGTH]
    return _skip_invisible(unicodedata.normalize("NFKC", visible)).startswith(FORMULA_PREFIXES)


def neutralise_cell(value) -> str:
    """The export's text for `value`, with a leading apostrophe if it could run as a formula.

    Only the cell is changed: the stored value stays as given.
    """
    if value is None:
        text = ""
    elif hasattr(value, "isoformat"):
        text = value.isoformat()
    else:
        text = str(value)
    return "'" + text if starts_like_formula(text) else text


def read_lead_rows(data: bytes) -> list[dict[str, str]]:
    """Rows of a UTF-8 CSV file with a header line; empty cells are left out (field defaults)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise LeadImportError(
            f"The CSV file is not UTF-8 (byte {error.start} cannot be decoded). Save it as UTF-8."
        ) from error
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise LeadImportError("The CSV file is empty; it needs a header line.")
        columns = [name.strip().lower() for name in header]
        unknown = [name for name in columns if name not in EDITABLE_FIELDS]
        if unknown or len(set(columns)) != len(columns):
            allowed = ", ".join(sorted(EDITABLE_FIELDS))
            refused = ", ".join(unknown) or "a repeated column"
            raise LeadImportError(
                f"The CSV header must name each column once, from: {allowed}. "
                f"Not allowed: {refused}."
            )
        rows = []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue  # blank line
            if len(cells) > len(columns):
                raise LeadImportError(
                    f"Line {reader.line_num} has {len(cells)} cells but the header names "
                    f"{len(columns)} columns."
                )
            rows.append(
                {name: cell for name, cell in zip(columns, cells, strict=False) if cell != ""}
            )
        return rows
    except csv.Error as error:
        raise LeadImportError(
            f"The CSV file is malformed near line {reader.line_num}: {error}."
        ) from error


class _Echo:
    """A file-like object whose write() hands the line back, so csv.writer can stream."""

    def write(self, value: str) -> str:
        return value


def write_lead_rows(leads: Iterable[Lead]) -> Iterator[str]:
    """The export, line by line: header, then one neutralised row per lead."""
    writer = csv.writer(_Echo())
    yield writer.writerow(EXPORT_COLUMNS)
    for lead in leads:
        yield writer.writerow(
            [
                neutralise_cell(getattr(lead, "owner_id" if column == "owner" else column))
                for column in EXPORT_COLUMNS
            ]
        )
