"""Evidence uploads: type detected from the content (never the name), 10 MB at most."""

import csv
import hashlib
import io
import os
import re

from django.utils.translation import gettext as _

from core.errors import InvalidInput
from core.uploads import sniff

MAX_BYTES = 10 * 1024 * 1024
MAGIC_KINDS = {
    "application/pdf": ("pdf", "application/pdf"),
    "image/png": ("png", "image/png"),
    "image/jpeg": ("jpeg", "image/jpeg"),
}
EXTENSIONS = {"pdf": ".pdf", "png": ".png", "jpeg": ".jpg", "csv": ".csv"}
# A tag, comment, doctype or XML declaration: "<svg", "</", "<!--", "<?xml". An SVG or HTML
# page can be shaped like a two-column CSV; a browser that sniffs it would run its script.
MARKUP = re.compile(r"<[A-Za-z!?/]")


def _looks_like_csv(data: bytes) -> bool:
    """UTF-8 text whose rows all split on the same delimiter into the same number of fields."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    if "\x00" in text:
        return False
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return False
    try:
        dialect = csv.Sniffer().sniff("\n".join(lines[:50]), delimiters=",;\t|")
    except csv.Error:
        return False
    widths = {len(row) for row in csv.reader(io.StringIO("\n".join(lines)), dialect)}
    return len(widths) == 1 and widths.pop() >= 2


def inspect(upload) -> dict:
    """Check an uploaded file; return kind, content_type, size and sha256, or raise InvalidInput
    naming the file (a filing may carry several)."""
    try:
        return _inspect(upload, name=getattr(upload, "name", "") or "")
    except InvalidInput as exc:
        name = getattr(upload, "name", "") or ""
        if not name:
            raise
        raise InvalidInput(
            _("“%(name)s”: %(problem)s") % {"name": os.path.basename(name)[:200], "problem": exc.message},
            code=exc.code,
            field=exc.field,
        ) from None


# What a file's name says it is: a file named so whose content is something else is told that.
NAMED_KINDS = {".pdf": "PDF", ".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".csv": "CSV"}


def _bad_type(name: str, guess, data: bytes) -> InvalidInput:
    """The refusal of a file of another type: what its name claims and what the content looks like."""
    claimed = NAMED_KINDS.get(os.path.splitext(name)[1].lower())
    if claimed is None:
        return InvalidInput(_("Only PDF, PNG, JPEG or CSV files are accepted."), code="bad_type")
    if guess is not None:
        seems = _("a %(kind)s file") % {"kind": guess.extension.upper()}
    else:
        try:
            data.decode("utf-8")
            seems = _("plain text")
        except UnicodeDecodeError:
            seems = _("data of an unknown type")
    return InvalidInput(
        _("its content is not a %(kind)s file: it looks like %(seems)s. Only PDF, PNG, JPEG or CSV files are accepted.")
        % {"kind": claimed, "seems": seems},
        code="bad_type",
    )


def _inspect(upload, *, name: str = "") -> dict:
    size = upload.size
    if size is None or size > MAX_BYTES:
        raise InvalidInput(_("A document may be at most 10 MB."), code="too_large")
    if size == 0:
        raise InvalidInput(_("The file is empty."), code="empty")
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    if len(data) > MAX_BYTES:
        raise InvalidInput(_("A document may be at most 10 MB."), code="too_large")
    guess = sniff(data)
    if guess is not None:
        if guess.mime not in MAGIC_KINDS:
            raise _bad_type(name, guess, data)
        kind, content_type = MAGIC_KINDS[guess.mime]
    elif _looks_like_csv(data):
        if MARKUP.search(data.decode("utf-8-sig")):
            raise InvalidInput(_("A CSV file may not contain markup (HTML, SVG or XML tags)."), code="markup")
        kind, content_type = "csv", "text/csv"
    else:
        raise _bad_type(name, None, data)
    return {
        "kind": kind,
        "content_type": content_type,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "extension": EXTENSIONS[kind],
    }
