"""The PostgreSQL bulk path of the metrics import: it must import exactly what the careful path
imports, rewrite only rows that change, and hand every file it cannot judge to the careful path
(which names the bad line and column)."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection

from core.csv import CsvRejected
from merchants.models import SessionMinute
from merchants.services import import_csv

from .test_imports import MERCHANTS, SESSIONS

HEADER = "session_id,minute,viewers,orders,gmv,ad_spend\n"


@pytest.fixture
def sessions(db):
    import_csv(kind="merchants", source=MERCHANTS.encode())
    import_csv(kind="sessions", source=SESSIONS.encode())


def _stored():
    return {
        (m.session.external_id, m.minute): (m.viewers, m.orders, m.gmv, m.ad_spend)
        for m in SessionMinute.objects.select_related("session")
    }


def _versions():
    """Each row's xmin: it changes exactly when the row is rewritten."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT session_id, minute, xmin::text FROM merchants_sessionminute")
        return {(sid, minute): version for sid, minute, version in cursor.fetchall()}


def test_every_minute_spelling_is_read_as_the_careful_path_reads_it(sessions):
    text = HEADER + (
        "T-1,2026-11-02T12:00:00Z,100,2,199.90,5.00\n"
        "T-1,2026-11-02T20:01:00+08:00,120,3,299.85,5\n"  # 12:01 UTC
        "T-1,2026-11-02 12:02,1,0,0,0\n"  # no offset: UTC
        "T-1,2026-11-02T12:03:00.000,1,0,0.5,0\n"
        "T-1,2026-11-02T13:04:00+0100,1,0,0,0\n"  # 12:04 UTC
        "N-1,2026-11-02T04:00-02,10,0,0,0\n"  # 06:00 UTC
    )
    result = import_csv(kind="metrics", source=text.encode())
    assert result.bulk and (result.rows, result.created) == (6, 6)
    stored = _stored()
    assert set(stored) == {
        *(("T-1", datetime(2026, 11, 2, 12, m, tzinfo=UTC)) for m in range(5)),
        ("N-1", datetime(2026, 11, 2, 6, 0, tzinfo=UTC)),
    }
    assert stored["T-1", datetime(2026, 11, 2, 12, 1, tzinfo=UTC)] == (120, 3, Decimal("299.85"), Decimal("5.00"))
    assert stored["T-1", datetime(2026, 11, 2, 12, 3, tzinfo=UTC)][2] == Decimal("0.50")


def test_unchanged_rows_are_not_rewritten(sessions):
    rows = [f"T-1,2026-11-02T12:{m:02d}:00Z,{m},1,{m}.50,0" for m in range(60)]
    import_csv(kind="metrics", source=(HEADER + "\n".join(rows) + "\n").encode())
    before = _versions()
    again = import_csv(kind="metrics", source=(HEADER + "\n".join(rows) + "\n").encode())
    assert again.bulk and (again.created, again.updated, again.unchanged) == (0, 0, 60)
    assert _versions() == before  # no row locked or rewritten
    rows[7] = "T-1,2026-11-02T12:07:00Z,7,1,99.00,0"
    rows.append("T-1,2026-11-02T13:00:00Z,1,1,1,0")
    changed = import_csv(kind="metrics", source=(HEADER + "\n".join(rows) + "\n").encode())
    assert changed.bulk and (changed.created, changed.updated, changed.unchanged) == (1, 1, 59)
    after = _versions()
    rewritten = {pk for pk, version in before.items() if after[pk] != version}
    assert rewritten == {SessionMinute.objects.get(minute=datetime(2026, 11, 2, 12, 7, tzinfo=UTC)).pk}
    assert SessionMinute.objects.get(minute=datetime(2026, 11, 2, 12, 7, tzinfo=UTC)).gmv == Decimal("99.00")


@pytest.mark.parametrize(
    "text",
    [
        HEADER.replace("viewers,orders", "orders,viewers") + "T-1,2026-11-02T12:00:00Z,2,100,199.90,5.00\n",
        HEADER + '"T-1","2026-11-02T12:00:00Z","100","2","199.90","5.00"\n',
        HEADER + "T-1,2026-11-02T12:00:00Z,100,2,199.90,5.00\n\n",  # blank line
        HEADER + " T-1 ,2026-11-02T12:00:00Z, 100 ,2,199.90,5.00\n",  # spaces around values
        HEADER + "T-1,2026-11-02T12:00:00+00,100,2,199.90,5.00\n",
    ],
)
def test_files_the_bulk_path_cannot_judge_are_imported_by_the_careful_path(sessions, text):
    result = import_csv(kind="metrics", source=("\ufeff" + text).encode())
    assert (result.rows, result.created) == (1, 1)
    noon = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
    assert _stored() == {("T-1", noon): (100, 2, Decimal("199.90"), Decimal("5.00"))}


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ("T-1,2026-11-02T12:05:00Z,+5,1,1,0", "viewers"),  # PostgreSQL would read these numbers
        ("T-1,2026-11-02T12:05:00Z,5,1,1e3,0", "gmv"),
        ("T-1,2026-11-02T12:05:00Z,5,1,1,Infinity", "ad_spend"),
        ("T-1,2026-11-02T12:05:00Z,1000000000,1,1,0", "viewers"),
        ("T-1,2026-11-02T24:00:00Z,5,1,1,0", "minute"),  # PostgreSQL reads 24:00 as midnight
        ("T-1,2026-02-30T12:00:00Z,5,1,1,0", "minute"),
        ("T-1,Nov 2 2026 12:05,5,1,1,0", "minute"),
        ("T-1,2026-11-02T12:00:00Z,100,2,199.90,5.00", "minute"),  # repeats an unchanged stored row
        ("\\.", "minute"),  # COPY would stop reading here
    ],
)
def test_values_postgresql_reads_but_the_import_refuses(sessions, row, column):
    good = "T-1,2026-11-02T12:00:00Z,100,2,199.90,5.00\nT-1,2026-11-02T12:01:00Z,1,1,1,0\n"
    import_csv(kind="metrics", source=(HEADER + good).encode())
    before = _versions()
    with pytest.raises(CsvRejected) as exc:
        import_csv(kind="metrics", source=(HEADER + good + row + "\nT-1,2026-11-02T12:09:00Z,1,1,1,0\n").encode())
    assert (exc.value.line, exc.value.column) == (4, column), str(exc.value)
    assert _versions() == before


def test_uploaded_file_is_read_again_by_the_careful_path(sessions):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("m.csv", (HEADER + "T-1,2026-11-02T12:00:00Z, 1 ,1,1,0\n").encode())
    result = import_csv(kind="metrics", source=upload)
    assert not result.bulk and result.created == 1
    upload = SimpleUploadedFile("m.csv", (HEADER + "T-1,2026-11-02T12:01:00Z,1,1,1,0\n").encode())
    assert import_csv(kind="metrics", source=upload).bulk
