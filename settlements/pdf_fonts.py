"""A pre-subset CJK font for the PDF documents, built once per font and character set.

WeasyPrint embeds only the glyphs a PDF uses, but it gets them by subsetting the whole font
each time: for Noto Sans CJK (a 19 MB collection, 65,000 glyphs) that was a third of a
statement's render. Here the font is cut once to what the documents need — ASCII and Latin,
punctuation, arrows, CJK symbols and full-width forms, the 6,763 hanzi of GB 2312, and every
character of the PDF templates and of the Chinese catalogue — and the documents name it first
in their font list through ``@font-face``. A character outside it (a rare name) still renders:
the next font in the list, the full system font, draws it.

The subset files go to ``settings.PDF_FONT_CACHE_DIR`` (created on demand, outside the source
tree), named by a digest of the source font file and the character set, so a font upgrade or a
new catalogue string builds new ones. Building takes about a second per weight (HarfBuzz's
subsetter, which WeasyPrint itself uses, through cffi); it happens once per cache directory,
and a process reads the result once. Any failure leaves the documents on the system font, as
before, with a warning.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import subprocess
import tempfile
from pathlib import Path

from django.conf import settings

log = logging.getLogger(__name__)

FAMILY = "PDF Sans CJK"  # the name the PDF templates use first
SOURCE_FAMILY = "Noto Sans CJK SC"
WEIGHTS = {"normal": "regular", "bold": "bold"}
BUILD_VERSION = "1"  # bump when the way the subset is built changes
RANGES = (
    (0x20, 0x7E),  # ASCII
    (0xA0, 0x17F),  # Latin-1 and Latin Extended-A
    (0x2000, 0x206F),  # general punctuation
    (0x2100, 0x21FF),  # letter-like symbols, number forms, arrows
    (0x2460, 0x24FF),  # enclosed numbers
    (0x3000, 0x303F),  # CJK symbols and punctuation
    (0xFF00, 0xFFEF),  # full-width forms
)
ROOT = Path(__file__).resolve().parent.parent
TEXT_SOURCES = (
    "templates/documents",
    "locale/zh_Hans/LC_MESSAGES/django.po",
)


def _codepoints() -> list[int]:
    points = {cp for lo, hi in RANGES for cp in range(lo, hi + 1)}
    for cp in range(0x4E00, 0xA000):  # the CJK unified block holds all of GB 2312's hanzi
        try:
            chr(cp).encode("gb2312")
        except UnicodeEncodeError:
            continue
        points.add(cp)
    for source in TEXT_SOURCES:
        path = ROOT / source
        for file in sorted(path.rglob("*")) if path.is_dir() else [path]:
            if file.is_file():
                points.update(ord(c) for c in file.read_text(encoding="utf-8") if ord(c) >= 0x80)
    return sorted(points)


def _system_font(weight: str) -> tuple[str, int]:
    """File and collection index of the system's Noto Sans CJK SC in that weight."""
    out = subprocess.run(
        ["fc-match", "--format=%{file}|%{index}|%{family}", f"{SOURCE_FAMILY}:weight={weight}"],
        capture_output=True,
        check=True,
        text=True,
        timeout=30,
    ).stdout
    file, index, families = out.split("|", 2)
    if SOURCE_FAMILY not in families.split(","):
        raise LookupError(f"{SOURCE_FAMILY} is not installed (fontconfig offers {families!r})")
    return file, int(index)


def _harfbuzz():
    import cffi

    ffi = cffi.FFI()
    ffi.cdef(
        """
        typedef struct hb_blob_t hb_blob_t;
        typedef struct hb_face_t hb_face_t;
        typedef struct hb_set_t hb_set_t;
        typedef struct hb_subset_input_t hb_subset_input_t;
        hb_blob_t *hb_blob_create_from_file_or_fail (const char *file_name);
        hb_face_t *hb_face_create (hb_blob_t *blob, unsigned int index);
        hb_blob_t *hb_face_reference_blob (hb_face_t *face);
        const char *hb_blob_get_data (hb_blob_t *blob, unsigned int *length);
        void hb_blob_destroy (hb_blob_t *blob);
        void hb_face_destroy (hb_face_t *face);
        void hb_set_add (hb_set_t *set, uint32_t codepoint);
        hb_subset_input_t *hb_subset_input_create_or_fail (void);
        hb_set_t *hb_subset_input_unicode_set (hb_subset_input_t *input);
        void hb_subset_input_destroy (hb_subset_input_t *input);
        hb_face_t *hb_subset_or_fail (hb_face_t *source, const hb_subset_input_t *input);
        """
    )
    return ffi, ffi.dlopen("libharfbuzz.so.0"), ffi.dlopen("libharfbuzz-subset.so.0")


def subset_font(source: str, index: int, codepoints: list[int]) -> bytes:
    """The font at ``source`` (face ``index`` of a collection) cut to ``codepoints`` (and the
    glyphs their layout features reach), as OpenType bytes."""
    ffi, hb, hb_subset = _harfbuzz()
    blob = hb.hb_blob_create_from_file_or_fail(os.fsencode(source))
    if blob == ffi.NULL:
        raise OSError(f"cannot read {source}")
    face = hb.hb_face_create(blob, index)
    subset_input = hb_subset.hb_subset_input_create_or_fail()
    result = out_blob = ffi.NULL
    try:
        unicodes = hb_subset.hb_subset_input_unicode_set(subset_input)
        for cp in codepoints:
            hb.hb_set_add(unicodes, cp)
        result = hb_subset.hb_subset_or_fail(face, subset_input)
        if result == ffi.NULL:
            raise OSError(f"HarfBuzz could not subset {source}")
        out_blob = hb.hb_face_reference_blob(result)
        length = ffi.new("unsigned int *")
        data = hb.hb_blob_get_data(out_blob, length)
        return bytes(ffi.buffer(data, length[0]))
    finally:
        if out_blob != ffi.NULL:
            hb.hb_blob_destroy(out_blob)
        if result != ffi.NULL:
            hb.hb_face_destroy(result)
        hb_subset.hb_subset_input_destroy(subset_input)
        hb.hb_face_destroy(face)
        hb.hb_blob_destroy(blob)


def _renamed(data: bytes, weight: str) -> bytes:
    """The subset under its own family name, so that fontconfig never takes it for the full
    system font (and a PDF's font list shows which one drew the text)."""
    import io

    from fontTools.ttLib import TTFont

    font = TTFont(io.BytesIO(data), lazy=True)
    postscript = f"{FAMILY.replace(' ', '')}-{weight.capitalize()}"
    for record in font["name"].names:
        if record.nameID in (1, 3, 4, 16):
            record.string = f"{FAMILY} {weight.capitalize()}" if record.nameID in (3, 4) else FAMILY
        elif record.nameID == 6:
            record.string = postscript
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def _build(weight: str, codepoints: list[int], cache: Path) -> Path:
    source, index = _system_font(weight)
    stat = os.stat(source)
    key = f"{BUILD_VERSION}|{source}|{index}|{stat.st_size}|{stat.st_mtime_ns}|{','.join(map(str, codepoints))}"
    path = cache / f"pdf-sans-cjk-{weight}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.otf"
    if path.exists():
        return path
    cache.mkdir(parents=True, exist_ok=True)
    data = _renamed(subset_font(source, index, codepoints), weight)
    # Written aside and renamed: a worker starting at the same time never reads half a font.
    fd, tmp = tempfile.mkstemp(dir=cache, prefix=".building-", suffix=".otf")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)
    log.info("Built the PDF subset font %s (%d characters, %d bytes)", path, len(codepoints), len(data))
    return path


@functools.cache
def _font_faces(cache: str) -> str:
    try:
        codepoints = _codepoints()
        paths = {css: _build(weight, codepoints, Path(cache)) for css, weight in WEIGHTS.items()}
    except Exception:
        log.warning("No PDF subset font: documents use the full system CJK font", exc_info=True)
        return ""
    return "".join(
        f'@font-face {{ font-family: "{FAMILY}"; font-weight: {css}; src: url("{path.as_uri()}"); }}\n'
        for css, path in paths.items()
    )


def font_faces() -> str:
    """The ``@font-face`` rules of the subset fonts ('' when turned off or not available)."""
    if not getattr(settings, "PDF_FONT_SUBSET", True):
        return ""
    return _font_faces(str(settings.PDF_FONT_CACHE_DIR))


def css(faces: str) -> dict[str, str]:
    """The template's font rules and family list: the subset first when there is one. Without
    it the list must not name it either, since a process that loaded it once still knows it."""
    family = f'"{FAMILY}", "{SOURCE_FAMILY}", sans-serif' if faces else f'"{SOURCE_FAMILY}", sans-serif'
    return {"pdf_font_faces": faces, "pdf_font_family": family}
