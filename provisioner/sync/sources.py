"""The one reader of event-data exports: CSV (one file per record kind, or a ``kind`` column) and JSON Lines.

It accounts for every physical line. Per file it detects the encoding (UTF-8, UTF-8 with BOM, UTF-16,
and cp1252 as a reported fallback for lines that are not UTF-8), the CSV delimiter (``,`` ``;`` tab) and
a missing header row (the first row names none of the columns the mappings expect), and reports what
it chose in a :class:`FileReport`. A damaged record (unbalanced quote, wrong column count, a control
character, a field above the ceiling) becomes a :class:`Row` carrying ``_error`` with its line, and the
reader resynchronises at the next physical line, so neighbours are never taken with it. Rows are
yielded one at a time: a file of any size is never held in memory.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Callable, Iterable, Iterator

KINDS = ("registration", "engagement", "poll", "replay")
#: Columns every record of a kind must fill (a CSV header without one of them is refused).
REQUIRED = {
    "registration": ("email", "session", "status"),
    "engagement": ("email", "session", "entry_id"),
    "poll": ("email", "session", "entry_id", "poll_number"),
    "replay": ("email", "session", "status"),
}
FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl"}  # any other suffix is CSV
DELIMITERS = (",", ";", "\t")
#: Default ceiling on one field (characters): the largest Salesforce long text area is 131,072.
MAX_FIELD_CHARS = 32_768
#: A quoted field may span lines (a multi-line comment); one that is still open after this many
#: physical lines is a stray quote, and only its first line is rejected.
MAX_RECORD_LINES = 50
#: Characters no target can store: XML 1.0's forbidden controls (Salesforce's SOAP/Bulk APIs), DEL and
#: the C1 controls (what a cp1252 byte without a character becomes), and the two non-characters.
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")
NAMES = {"\t": "tab", ",": "comma", ";": "semicolon"}
csv.field_size_limit(sys.maxsize)  # sizes are checked here, against the ceiling, with the line named


class SourceError(Exception):
    """An input file that cannot be read at all (unknown kind, unreadable format)."""


@dataclass(slots=True)  # slots, not frozen: a run makes one per input row per window, many times (frozen
# dataclasses set each field through object.__setattr__; a window of Marketo items cost 8% more instructions)
class Row:
    """One logical record: its kind, its values as read, and where it came from (its first physical line)."""

    kind: str
    data: dict[str, str]
    file: str
    line: int

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class FileReport:
    """What the reader chose for one file and what it found, for the summary."""

    file: str
    format: str
    encoding: str = "utf-8"
    delimiter: str | None = None
    header: bool = True
    lines: int = 0  # physical lines
    records: int = 0  # logical records yielded (good and damaged)
    damaged: int = 0
    fallback_lines: list[int] = field(default_factory=list)  # lines read as cp1252
    refused: str | None = None  # why the whole file was refused (its lines are rejected rows)

    def describe(self) -> str:
        """One line a user reads: ``a.csv: UTF-8, semicolon-delimited, header on line 1; 40 records``."""
        parts = [self.encoding.upper().replace("-SIG", " with BOM")]
        if self.fallback_lines:
            shown = ", ".join(str(n) for n in self.fallback_lines[:5]) + (" …" if len(self.fallback_lines) > 5 else "")
            parts[0] += f" (line{'s' if len(self.fallback_lines) > 1 else ''} {shown} not UTF-8: read as cp1252)"
        if self.format == "csv":
            parts.append(f"{NAMES.get(self.delimiter or ',', self.delimiter)}-delimited")
            parts.append("header on line 1" if self.header else "NO header row")
        text = f"{self.file}: {', '.join(parts)}; {self.records} records"
        if self.damaged:
            text += f", {self.damaged} damaged"
        return text + (f"; refused: {self.refused}" if self.refused else "")

    def as_json(self) -> dict[str, object]:
        return {"file": self.file, "format": self.format, "encoding": self.encoding, "delimiter": self.delimiter,
                "header": self.header, "lines": self.lines, "records": self.records, "damaged": self.damaged,
                "cp1252_lines": self.fallback_lines, "refused": self.refused}


def kind_from_name(path: Path) -> str | None:
    """The record kind a CSV file name announces (``kaltura-export-registrations.csv`` → registration)."""
    name = path.name.lower()
    return next((k for k in KINDS if k in name), None)


def file_format(path: str | Path) -> str:
    """``jsonl`` for ``.jsonl``/``.ndjson`` files, ``csv`` for any other."""
    return FORMATS.get(Path(path).suffix.lower(), "csv")


# -- physical lines -------------------------------------------------------------------------------------

def _sniff_encoding(head: bytes) -> str:
    """The encoding a file's first bytes announce: a BOM, or UTF-16's zero bytes; UTF-8 otherwise."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = head[:4096]
    if len(sample) >= 4:
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        half = len(sample) // 2
        if odd > half * 0.4 and even < half * 0.05:
            return "utf-16-le"
        if even > half * 0.4 and odd < half * 0.05:
            return "utf-16-be"
    return "utf-8"


def _physical_lines(handle: IO[bytes], report: FileReport) -> Iterator[tuple[int, str]]:
    """``(line number, text without its line end)``; a UTF-8 line that does not decode is read as cp1252
    (Excel on Windows) and its number reported; a byte cp1252 lacks becomes a C1 control, rejected later."""
    head = handle.peek(4096)[:4096] if hasattr(handle, "peek") else b""
    report.encoding = _sniff_encoding(head)
    if report.encoding.startswith("utf-16"):
        text = io.TextIOWrapper(handle, encoding=report.encoding, errors="replace", newline="")
        for number, line in enumerate(text, start=1):
            yield number, line.rstrip("\r\n")
        return
    if report.encoding == "utf-8-sig":
        handle.read(len(codecs.BOM_UTF8))
    for number, raw in enumerate(handle, start=1):
        raw = raw.rstrip(b"\r\n")
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            line = raw.decode("cp1252", errors="strict") if _cp1252_ok(raw) else raw.decode("latin-1")
            report.fallback_lines.append(number)
        yield number, line


def _cp1252_ok(raw: bytes) -> bool:
    try:
        raw.decode("cp1252")
        return True
    except UnicodeDecodeError:
        return False


# -- damage --------------------------------------------------------------------------------------------

def field_problem(name: str, value: str, ceiling: int) -> str | None:
    """Why one value cannot go to any target: a control character, or more characters than the ceiling."""
    bad = FORBIDDEN.search(value)
    if bad:
        return (f"{name} holds the control character U+{ord(bad.group()):04X} at position {bad.start() + 1}, "
                "which the targets cannot store; fix the export")
    if len(value) > ceiling:
        return f"{name} is {len(value):,} characters, above the ceiling of {ceiling:,} (--max-field-chars)"
    return None


def _damaged(path: Path, line: int, reason: str, raw: str) -> Row:
    return Row("", {"_raw": raw[:200], "_error": f"line {line}: {reason}"}, str(path), line)


# -- CSV ------------------------------------------------------------------------------------------------

def _delimiter(line: str) -> str:
    """The delimiter of a header line: the most frequent of ``,`` ``;`` tab outside quotes (comma on a tie)."""
    outside = re.sub(r'"[^"]*"', "", line)
    counts = {d: outside.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def _split(text: str, delimiter: str) -> list[str] | None:
    """The fields of one logical record, or ``None`` when its quotes do not balance.

    A record without a quote or a line-end character is what the csv module would split on the delimiter
    alone, so it is split with ``str.split`` (the common case, several times faster than a reader per
    line); anything else goes through the csv module (tests/sync/test_sources_fast_path.py compares both)."""
    if text and '"' not in text and "\r" not in text and "\n" not in text:
        return text.split(delimiter)
    return _split_csv(text, delimiter)


def _split_csv(text: str, delimiter: str) -> list[str] | None:
    """:func:`_split` by the csv module: quotes, doubled quotes, line ends inside quoted fields."""
    if text.count('"') % 2:
        return None
    try:
        return next(csv.reader([text], delimiter=delimiter, strict=True))
    except (csv.Error, StopIteration):
        return None


def _records(lines: Iterator[tuple[int, str]], fits: Callable[[list[str]], bool]) -> Iterator[tuple[int, int, str]]:
    """``(first line, last line, text)`` of logical records: a line with an open quote takes the following lines
    until the quotes balance (a multi-line field), up to :data:`MAX_RECORD_LINES`, and keeps them when the
    lines ``fit`` (one record of the header's width, no line inside being a whole record itself). Otherwise the line is yielded alone (the caller rejects
    it) and reading goes on at its next line, so a stray quote never swallows its neighbours."""
    pending: list[tuple[int, str]] = []
    buffered: list[tuple[int, str]] = []  # lines to read again after a stray quote
    source = iter(lines)

    def next_line() -> tuple[int, str] | None:
        if buffered:
            return buffered.pop(0)
        return next(source, None)

    while True:
        item = buffered.pop(0) if buffered else next(source, None)  # next_line(), inline: it runs per line
        if item is None:
            break
        number, text = item
        if text.count('"') % 2 == 0:
            yield number, number, text
            continue
        pending = [item]
        while len(pending) < MAX_RECORD_LINES:
            more = next_line()
            if more is None:
                break
            pending.append(more)
            if sum(t.count('"') for _, t in pending) % 2 == 0:
                break
        joined = "\n".join(t for _, t in pending)
        if len(pending) > 1 and joined.count('"') % 2 == 0 and fits([t for _, t in pending]):
            yield pending[0][0], pending[-1][0], joined
        else:
            yield number, number, text  # never balanced: a stray quote on this line only
            buffered = pending[1:] + buffered
        pending = []


def _csv_rows(path: Path, handle: IO[bytes], report: FileReport, expected: Callable[[str], set[str]],
              ceiling: int) -> Iterator[Row]:
    default_kind = kind_from_name(path)
    header_at: int | None = None
    header: list[str] = []
    all_named = False  # every header column has a name
    where = str(path)

    def fits(lines: list[str]) -> bool:
        """Whether lines joined are one record of the header's width and no inner line is a whole row
        (then the quote that opened them is a stray one, not a multi-line field)."""
        fields = _split("\n".join(lines), report.delimiter or ",")
        if fields is None or header_at is None:
            return fields is not None
        inner = (next(csv.reader([t], delimiter=report.delimiter or ",")) for t in lines[1:-1])
        return len(fields) == len(header) and not any(len(f) == len(header) for f in inner)

    records = _records(_physical_lines(handle, report), fits)
    for first, last, text in records:
        if last > report.lines:
            report.lines = last
        if header_at is None:
            if not text.strip():
                continue
            report.delimiter = _delimiter(text)
            header = [h.strip() for h in (_split(text, report.delimiter) or [])]
            all_named = all(header)
            header_at = first
            names = {h.lower() for h in header}
            known = expected(default_kind or "") | {"kind"}
            lacking = [c for c in REQUIRED.get(default_kind or "", ()) if c not in names]
            if not header or not names & known:
                report.header = False
                report.refused = (f"line {first} is not a header row (it names none of the columns "
                                  f"{', '.join(sorted(expected(default_kind or '')))[:200]}); add the header line "
                                  "the platform exports, then run again")
            elif lacking:
                report.refused = (f"the header (line {first}) has no {', '.join(repr(c) for c in lacking)} column, "
                                  f"which every {default_kind} needs; its columns: {', '.join(header)[:200]}; "
                                  "rename the column in the export, then run again")
            elif default_kind is None and "kind" not in names:
                report.refused = (f"no 'kind' column and the file name names no record kind ({', '.join(KINDS)}); "
                                  "add a 'kind' column or put the kind in the file name, then run again")
            if report.refused:
                if not report.header:  # line 1 is data: it is a rejected row too
                    yield _damaged(path, first, f"file refused: {report.refused}", text)
                    report.records += 1
                    report.damaged += 1
                for f2, _, t2 in records:  # the rest cannot be mapped: each line is rejected, none guessed
                    report.lines = max(report.lines, f2)
                    if t2.strip():
                        report.records += 1
                        report.damaged += 1
                        yield _damaged(path, f2, f"file refused (see its line {first}): {report.refused}", t2)
                return
            continue
        if not text or text.isspace():  # a blank line (what ``not text.strip()`` says, without a copy)
            continue
        report.records += 1
        fields = _split(text, report.delimiter or ",")
        problem = None
        if fields is None:
            problem = "unbalanced double quote (a field opens a quote that no line closes)"
        elif len(fields) != len(header):
            problem = f"{len(fields)} columns where the header (line {header_at}) has {len(header)}"
            if len(fields) == 1 and report.delimiter != ";" and ";" in text:
                problem += "; the line looks semicolon-delimited"
        elif len(text) > ceiling or FORBIDDEN.search(text):  # rare: find the field (the line is cheap to scan)
            for name, value in zip(header, fields):
                problem = field_problem(name or "(unnamed column)", value, ceiling)
                if problem:
                    break
        if problem:
            report.damaged += 1
            yield _damaged(path, first, problem, text)
            continue
        if all_named:  # every column has a name: one C-level dict build (a later duplicate name wins, as below)
            data = dict(zip(header, map(str.strip, fields or [])))
        else:
            data = {k: v.strip() for k, v in zip(header, fields or []) if k}
        kind = data.pop("kind", "") or default_kind or ""
        yield Row(kind, data, where, first)


# -- JSON Lines -----------------------------------------------------------------------------------------

def _jsonl_rows(path: Path, handle: IO[bytes], report: FileReport, expected: Callable[[str], set[str]],
                ceiling: int) -> Iterator[Row]:
    for number, text in _physical_lines(handle, report):
        report.lines = number
        if not text.strip():
            continue
        report.records += 1
        problem, data = None, {}
        try:
            record = json.loads(text)
        except ValueError as exc:
            problem = f"not JSON: {exc}"
        else:
            if not isinstance(record, dict):
                problem = "a line must be a JSON object"
            else:
                known = expected(str(record.get("kind") or ""))
                for k, v in record.items():
                    if isinstance(v, (dict, list)):
                        if str(k).lower() not in known:
                            continue  # a nested value the sync does not use: left out, not a reason to reject
                        problem = f"{k} is a JSON {'object' if isinstance(v, dict) else 'array'}; it must be text or a number"
                        break
                    value = "" if v is None else str(v).strip()
                    problem = field_problem(str(k), value, ceiling)
                    if problem:
                        break
                    data[str(k)] = value
        if problem:
            report.damaged += 1
            yield _damaged(path, number, problem, text)
            continue
        yield Row(data.pop("kind", ""), data, str(path), number)


# -- entry point ----------------------------------------------------------------------------------------

class Reader:
    """Reads every file in order and keeps a :class:`FileReport` per file.

    ``expected(kind)`` names the columns the mappings expect for a kind (for header detection);
    ``formats`` are the Sync manifest's accepted formats: a file of another format is refused whole.
    """

    def __init__(self, expected: Callable[[str], set[str]] | None = None, ceiling: int = MAX_FIELD_CHARS,
                 formats: Iterable[str] = ("csv", "jsonl")) -> None:
        self.expected = expected or (lambda kind: {"email", "session"})
        self.ceiling = ceiling
        self.formats = tuple(formats)
        self.reports: list[FileReport] = []

    def check_formats(self, paths: Iterable[str | Path]) -> None:
        """Refuse (``SourceError``) a file whose format the Sync manifest's ``spec.source.formats`` lacks."""
        for path in paths:
            fmt = file_format(path)
            if fmt not in self.formats:
                raise SourceError(f"{path}: {fmt.upper()} files are not accepted by this Sync manifest "
                                  f"(spec.source.formats: {', '.join(self.formats)}); convert the file or add "
                                  f"{fmt} to spec.source.formats")

    def rows(self, paths: Iterable[str | Path]) -> Iterator[Row]:
        for raw in paths:
            path = Path(raw)
            self.check_formats([path])
            report = FileReport(str(path), file_format(path))
            self.reports.append(report)
            with path.open("rb") as handle:
                buffered = handle if hasattr(handle, "peek") else io.BufferedReader(handle)  # type: ignore[arg-type]
                if report.format == "jsonl":
                    yield from _jsonl_rows(path, buffered, report, self.expected, self.ceiling)
                else:
                    yield from _csv_rows(path, buffered, report, self.expected, self.ceiling)


def read_rows(paths: Iterable[str | Path]) -> Iterator[Row]:
    """Every row of every file, in order, with the default expectations (see :class:`Reader`)."""
    return Reader().rows(paths)
