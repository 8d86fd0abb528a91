"""One CSV reader for every importer: decoding, header, rows with their line numbers, limits.

Import files come from spreadsheets and banks. Whatever goes wrong is reported the same
way everywhere, as ``core.errors.RowError`` (line, column, message) inside :class:`CsvRejected`,
so a user can open the file at the line and column named. Lines are the file's own line
numbers (a quoted field may span lines; a row is numbered by the line it starts on).

The file is read as a stream, so a large metrics file is never held in memory. Text must
be UTF-8 (a BOM is allowed, as Excel writes one); a file saved in another encoding (GBK
from a Chinese spreadsheet, say) is refused naming the first line and column that do not
decode.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any, cast

from django.core.files.base import File
from django.utils.translation import gettext as _

from .errors import InvalidInput, PayloadTooLarge, RowError, UnsupportedMediaType
from .uploads import Kind, read_head, sniff

CsvSource = str | Path | bytes | IO[Any] | File  # a path, the bytes, or an open (uploaded) file
NOT_A_COLUMN = "-"  # the column of errors that concern a whole row or the file's structure


class CsvRejected(InvalidInput):
    """A file refused whole: nothing of it was imported. The first error is also ``line``, ``column``, ``message``.

    Refused for one reason, its API answer is that row error itself (``line``, ``column``,
    ``error``), the shape the bulk import API has always given.
    """

    def __init__(self, errors: Sequence[RowError]):
        if not errors:
            raise ValueError("CsvRejected needs at least one error")
        first = errors[0]
        super().__init__(errors=list(errors), field=first.column)
        self.first = first
        self.line, self.column = first.line, first.column
        if len(errors) == 1:
            self.message = first.message

    @classmethod
    def at(cls, line: int, column: str, message: str) -> CsvRejected:
        return cls([RowError(line, column, message)])

    def as_dict(self) -> dict[str, Any]:
        if len(self.errors) == 1:
            return self.first.as_dict()
        return super().as_dict()


class FileTooLarge(CsvRejected, PayloadTooLarge):
    """Over the size limit of the channel it came through."""


class NotCsvText(CsvRejected, UnsupportedMediaType):
    """Binary data (a workbook, an archive, a picture…) instead of CSV text; ``found`` is what it looks like."""

    def __init__(self, errors: Sequence[RowError], found: Kind | None = None):
        super().__init__(errors)
        self.found = found


def check_size(size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise FileTooLarge.at(
            0,
            "file",
            _("the file is larger than %(mb)s MB; split it or use the manage.py command")
            % {"mb": max_bytes // (1024 * 1024)},
        )


def check_upload(source: bytes | File, *, max_bytes: int) -> None:
    """Refuse an upload (bytes or an uploaded file) that is too large, empty or not CSV text.

    The type is judged by the content, never the name: a known binary signature (e.g. an
    Excel workbook) or a NUL byte in the first 8 KB means it is not a CSV file.
    """
    size = len(source) if isinstance(source, bytes) else source.size
    check_size(size, max_bytes)
    head = read_head(source)
    if not head:
        raise CsvRejected.at(0, "file", _("no CSV given"))
    found = sniff(head)
    if found is not None or b"\x00" in head:
        what = (
            _("a %(ext)s file (%(mime)s)") % {"ext": found.extension, "mime": found.mime}
            if found is not None
            else _("binary data")
        )
        raise NotCsvText(
            [RowError(0, "file", _("expected a CSV file (UTF-8 text), got %(what)s") % {"what": what})], found
        )


class CsvReader:
    """A CSV file with a header row naming ``columns`` (any order, any case, extra ones allowed).

    ``source`` is a path, bytes, a binary file object (an upload) or a text file object.
    Use as a context manager; :meth:`rows` yields ``(line, values)`` with the values of
    ``columns`` then ``optional`` (empty when absent) in that order. Blank lines are skipped.
    A row must have as many fields as the header unless ``ragged`` (bank files): then
    missing fields are empty and extra ones ignored.
    """

    def __init__(
        self,
        source: CsvSource,
        *,
        columns: Sequence[str],
        optional: Sequence[str] = (),
        ragged: bool = False,
    ):
        self.source, self.columns, self.optional, self.ragged = source, list(columns), list(optional), ragged
        self.header: list[str] = []
        self._binary: IO[bytes] | None = None
        self._text: IO[str] | None = None
        self._owned = False

    def __enter__(self) -> CsvReader:
        src = self.source
        if isinstance(src, io.TextIOBase):
            self._text = cast(IO[str], src)
        else:
            if isinstance(src, str | Path):
                self._binary, self._owned = open(src, "rb"), True  # noqa: SIM115 - closed in __exit__
            elif isinstance(src, bytes):
                self._binary = io.BytesIO(src)
            else:
                self._binary = src
            self._text = io.TextIOWrapper(self._binary, encoding="utf-8-sig", newline="")
        self._reader = csv.reader(self._text)
        try:
            self._read_header()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if isinstance(self._text, io.TextIOWrapper) and self._binary is not None:
            self._text.detach()  # leave the caller's file open
            self._text = None
        if self._owned and self._binary is not None:
            self._binary.close()
            self._owned = False

    def _read_header(self) -> None:
        first = self._next()
        if first is None:
            raise CsvRejected.at(1, NOT_A_COLUMN, _("the file is empty; expected a header row"))
        self.header = [h.strip().lower() for h in first[1]]
        missing = [name for name in self.columns if name not in self.header]
        if missing:
            # The header the file needs is said once, with the first missing column, not once a column.
            expected = ",".join(self.columns)
            hint = _("missing column; the header must have %(names)s") % {"names": expected}
            raise CsvRejected(
                [RowError(1, name, hint if i == 0 else _("missing column")) for i, name in enumerate(missing)]
            )

    def _next(self) -> tuple[int, list[str]] | None:
        line = self._reader.line_num + 1
        try:
            return line, next(self._reader)
        except StopIteration:
            return None
        except csv.Error as exc:
            raise CsvRejected.at(line, NOT_A_COLUMN, _("not readable as CSV: %(error)s") % {"error": exc}) from None
        except UnicodeDecodeError:
            raise self._not_utf8() from None

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        wanted = self.columns + self.optional
        positions = [self.header.index(n) if n in self.header else None for n in wanted]
        width = len(self.header)
        identity = positions == list(range(len(wanted))) and width == len(wanted)
        while (record := self._next()) is not None:
            line, row = record
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if len(row) != width and not self.ragged:
                if len(row) < width:
                    short = (n for n, p in zip(wanted, positions, strict=True) if p is not None and p >= len(row))
                    column = next(short, NOT_A_COLUMN)
                else:
                    column = NOT_A_COLUMN
                raise CsvRejected.at(
                    line, column, _("expected %(width)s fields, found %(found)s") % {"width": width, "found": len(row)}
                )
            if identity:
                yield line, row
            else:
                yield line, [row[p] if p is not None and p < len(row) else "" for p in positions]

    def _not_utf8(self) -> CsvRejected:
        """The error for a file that failed to decode, naming its first line and column at fault.

        Decoding runs in large blocks, so the failing block says little: the file is read again
        line by line (only on this error path) to find the first line that is not UTF-8.
        """
        message = _('the file is not UTF-8 text; save it as "CSV UTF-8" and try again')
        if self._binary is None or not self._binary.seekable():
            return CsvRejected.at(self._reader.line_num + 1, NOT_A_COLUMN, message)
        self._binary.seek(0)
        header: list[str] = []
        number = 0
        for chunk in self._binary:
            # A binary file splits on \n only; a lone \r ends a line too (as in text mode).
            for raw in chunk.splitlines(keepends=True) if b"\r" in chunk else (chunk,):
                number += 1
                if number == 1 and raw.startswith(codecs.BOM_UTF8):
                    raw = raw[len(codecs.BOM_UTF8) :]
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    index = _field_index(raw[: exc.start])
                    column = header[index] if index < len(header) else NOT_A_COLUMN
                    return CsvRejected.at(number, column, message)
                if number == 1:
                    header = [h.strip().lower() for h in next(csv.reader([text]), [])]
        return CsvRejected.at(number, NOT_A_COLUMN, message)  # pragma: no cover - decoding failed above


def _field_index(prefix: bytes) -> int:
    """0-based index of the CSV field in which a line's ``prefix`` ends."""
    try:
        return max(0, len(next(csv.reader([prefix.decode("utf-8", "replace")]), [""])) - 1)
    except csv.Error:
        return 0
