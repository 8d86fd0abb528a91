"""core.csv (the one CSV reader) and core.uploads.sniff, on their own."""

import io

import pytest

from core.csv import CsvReader, CsvRejected, FileTooLarge, NotCsvText, check_upload
from core.uploads import sniff


def test_sniff_knows_office_files_archives_and_pictures():
    import openpyxl

    out = io.BytesIO()
    openpyxl.Workbook().save(out)
    assert sniff(out.getvalue()).extension == "xlsx"
    assert sniff(b"PK\x03\x04" + b"\x00" * 100).mime == "application/zip"
    assert sniff(b"%PDF-1.7\n").extension == "pdf"
    assert sniff(b"\x89PNG\r\n\x1a\n....").extension == "png"
    assert sniff(b"claim_id,amount\n1,2\n") is None


def test_rows_come_with_their_file_lines_in_the_asked_order():
    data = b'B,a\n\n"x\ny",1\n2,3\n'
    with CsvReader(data, columns=["a", "b"]) as reader:
        assert list(reader.rows()) == [(3, ["1", "x\ny"]), (5, ["3", "2"])]


def test_header_width_and_encoding_errors_name_line_and_column():
    with pytest.raises(CsvRejected) as exc, CsvReader(b"a\n1\n", columns=["a", "b", "c"]):
        pass
    assert [(e.line, e.column) for e in exc.value.errors] == [(1, "b"), (1, "c")]
    # The header the file needs is said once, not once a missing column.
    assert sum("a,b,c" in e.message for e in exc.value.errors) == 1
    with pytest.raises(CsvRejected) as exc, CsvReader(b"a,b,c\n1,2\n", columns=["a", "b", "c"]) as reader:
        list(reader.rows())
    assert (exc.value.line, exc.value.column) == (2, "c")
    with CsvReader(b"a,b,c\n1,2\n", columns=["a"], optional=["c"], ragged=True) as reader:
        assert list(reader.rows()) == [(2, ["1", ""])]
    gbk = "a,b\n1,2\n3,茶\n".encode("gbk")
    with pytest.raises(CsvRejected) as exc, CsvReader(gbk, columns=["a", "b"]) as reader:
        list(reader.rows())
    assert (exc.value.line, exc.value.column) == (3, "b") and "not UTF-8" in exc.value.message


def test_uploads_are_checked_for_size_and_type():
    with pytest.raises(FileTooLarge):
        check_upload(b"a,b\n" * 10, max_bytes=10)
    with pytest.raises(NotCsvText) as exc:
        check_upload(b"PK\x03\x04" + b"\x00" * 10, max_bytes=1000)
    assert exc.value.found.extension == "zip"
    with pytest.raises(NotCsvText):
        check_upload(b"a,b\n\x00", max_bytes=1000)
    check_upload(b"a,b\n1,2\n", max_bytes=1000)
