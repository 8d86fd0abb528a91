"""What an uploaded file really is, judged by its first bytes, never by its name.

Uploads are refused or accepted by content: a spreadsheet renamed ``.csv`` must be told
apart from CSV text, a program renamed ``.pdf`` from a PDF. A short table of signatures
covers what users actually send; anything not in it is "unknown" and left to the caller
(for instance to check it as CSV text).
"""

from __future__ import annotations

from dataclasses import dataclass

HEAD_BYTES = 8192  # enough for every signature below, including the OOXML part names


@dataclass(frozen=True)
class Kind:
    extension: str
    mime: str


_SIGNATURES: list[tuple[bytes, Kind]] = [
    (b"%PDF-", Kind("pdf", "application/pdf")),
    (b"\x89PNG\r\n\x1a\n", Kind("png", "image/png")),
    (b"\xff\xd8\xff", Kind("jpg", "image/jpeg")),
    (b"GIF87a", Kind("gif", "image/gif")),
    (b"GIF89a", Kind("gif", "image/gif")),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", Kind("xls", "application/vnd.ms-excel")),  # OLE2: old Office files
    (b"\x1f\x8b", Kind("gz", "application/gzip")),
    (b"7z\xbc\xaf\x27\x1c", Kind("7z", "application/x-7z-compressed")),
    (b"Rar!\x1a\x07", Kind("rar", "application/vnd.rar")),
    (b"BZh", Kind("bz2", "application/x-bzip2")),
    (b"\x7fELF", Kind("elf", "application/x-executable")),
    (b"MZ", Kind("exe", "application/x-msdownload")),
    (b"II*\x00", Kind("tif", "image/tiff")),
    (b"MM\x00*", Kind("tif", "image/tiff")),
]
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
# Office Open XML files are zip archives; the folder names of their parts tell them apart.
_OOXML = [
    (b"xl/", Kind("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")),
    (b"word/", Kind("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")),
    (b"ppt/", Kind("pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation")),
]
ZIP = Kind("zip", "application/zip")
WEBP = Kind("webp", "image/webp")


def sniff(head: bytes) -> Kind | None:
    """The known binary format whose signature ``head`` (the first bytes of a file) starts with."""
    if head.startswith(_ZIP_MAGIC):
        window = head[:HEAD_BYTES]
        return next((kind for marker, kind in _OOXML if marker in window), ZIP)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    return next((kind for magic, kind in _SIGNATURES if head.startswith(magic)), None)


def read_head(upload, size: int = HEAD_BYTES) -> bytes:
    """The first ``size`` bytes of a file object or bytes, leaving a file object at its start."""
    if isinstance(upload, bytes | bytearray | memoryview):
        return bytes(upload[:size])
    upload.seek(0)
    head = upload.read(size)
    upload.seek(0)
    return head
