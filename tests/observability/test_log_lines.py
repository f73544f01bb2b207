"""One record, one line: nothing a client sends can end a log line early and forge the next.

A path with `%0D%0A` in it is decoded by Django into a real line break, and it reaches the log
in the access line and in Django's own "Not Found" warning. The text format escapes control
characters in every field; the JSON format escapes what its encoder leaves raw.
"""

import io
import json
import logging
import logging.config
import re
import sys

import pytest

from observability.logging import JsonFormatter, TextFormatter, logging_config
from tests.observability.test_logging import format_with

FORGED = "2026-01-01 00:00:00 ERROR forged"
FORGING_PATH = "/api/v1/leads/%0D%0A2026-01-01%2000:00:00%20ERROR%20forged/"
RECORD_START = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z [A-Z]+ ")
JSON = JsonFormatter(service="svc", environment="test", version="1.2.3")

# Every character that ends a line for some reader, and what the text format writes instead.
CONTROL_CHARACTERS = [
    ("\n", r"\n"),
    ("\r", r"\r"),
    ("\t", r"\t"),
    ("\x00", r"\x00"),
    ("\x0b", r"\x0b"),
    ("\x1b", r"\x1b"),
    ("\x1e", r"\x1e"),
    ("\x7f", r"\x7f"),
    ("\x85", r"\x85"),
    ("\x9b", r"\x9b"),
    ("\u2028", r"\u2028"),
    ("\u2029", r"\u2029"),
]


def _logger_states() -> list[tuple]:
    loggers = [logging.getLogger()] + [
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    return [
        (logger, logger.handlers[:], logger.filters[:], logger.level, logger.propagate,
         logger.disabled)
        for logger in loggers
    ]  # fmt: skip


@pytest.fixture
def project_logging(monkeypatch):
    """The project's logging configuration (as settings/logs.py builds it) in the given format, its
    stdout a buffer; every logger is put back as it was afterwards."""
    saved = _logger_states()

    def configure(log_format: str) -> io.StringIO:
        buffer = io.StringIO()
        monkeypatch.setattr(sys, "stdout", buffer)  # the handler's ext://sys.stdout
        logging.config.dictConfig(
            logging_config(
                level="INFO",
                log_format=log_format,
                service="svc",
                environment="test",
                version="1.2.3",
            )
        )
        return buffer

    yield configure
    for logger, handlers, filters, level, propagate, disabled in saved:
        logger.handlers[:], logger.filters[:] = handlers, filters
        logger.setLevel(level)
        logger.propagate, logger.disabled = propagate, disabled


class Counter(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.mark.django_db
@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_line_break_decoded_into_the_path_cannot_forge_a_line(
    client, project_logging, log_format
):
    output = project_logging(log_format)
    counter = Counter()
    logging.getLogger().addHandler(counter)
    client.get(FORGING_PATH)
    lines = output.getvalue().splitlines()  # splits at \u2028, \x85 and the like too
    # Django's "Not Found" warning and the access line, each one line.
    assert len(counter.records) >= 2
    assert len(lines) == len(counter.records), lines
    assert sum("forged" in line for line in lines) == 2
    if log_format == "text":
        assert all(RECORD_START.match(line) for line in lines), lines
        assert any(r"\r\n" + FORGED in line for line in lines)
    else:
        paths = [json.loads(line).get("url.path") for line in lines]
        assert f"/api/v1/leads/\r\n{FORGED}/" in paths  # escaped, not lost


@pytest.mark.parametrize(("character", "escaped"), CONTROL_CHARACTERS)
def test_text_format_escapes_control_characters_in_every_field(character, escaped):
    output = format_with(
        TextFormatter(),
        lambda logger: logger.warning(
            "a%sb", character, extra={"value": f"c{character}d", f"key{character}": 1}
        ),
    )
    assert output.count("\n") == 1  # the handler's terminator
    assert output[:-1].splitlines() == [output[:-1]]
    assert f"a{escaped}b" in output
    assert f"value=c{escaped}d" in output
    assert f"key{escaped}=1" in output


def test_text_format_keeps_a_traceback_on_the_records_line():
    def log(logger):
        try:
            raise ValueError(f"bad\n{FORGED}")
        except ValueError:
            logger.exception("it failed")

    output = format_with(TextFormatter(), log)
    (line,) = output.splitlines()
    assert RECORD_START.match(line)
    assert r"Traceback (most recent call last):\n" in line
    assert rf"ValueError: bad\n{FORGED}" in line


@pytest.mark.parametrize("character", [c for c, _ in CONTROL_CHARACTERS if c != "\x7f"])
def test_json_format_escapes_what_the_encoder_leaves_raw(character):
    message = f"a{character}b"
    output = format_with(JSON, lambda logger: logger.warning(message, extra={"v": message}))
    (line,) = output.splitlines()
    record = json.loads(line)
    assert record["message"] == record["v"] == message  # escaped, still the same text
    assert character not in line
