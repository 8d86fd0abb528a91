"""The beat task issues last month's statement (merchant time zone) for merchants with claims
decided or settled in it, once: a second run issues no new version."""

from datetime import UTC, datetime

import pytest
from django.conf import settings as django_settings

from claims import services as wf
from claims.models import Claim
from settlements.models import DocumentKind, IssuedDocument
from settlements.tasks import issue_monthly_statements

pytestmark = pytest.mark.django_db


def decided(claims, code, tz, at, settled_by=None, settled_at=None):
    merchant = claims.merchant(code, f"Merchant {code}")
    merchant.timezone = tz
    merchant.save(update_fields=["timezone"])
    claim = claims.accepted("500.00", merchant=merchant)
    if settled_at:
        claim = wf.settle(claim=claim, by=settled_by, payment_reference=f"PAY-{code}")
    Claim.objects.filter(pk=claim.pk).update(decided_at=at, settled_at=settled_at)
    return merchant


def statements():
    return sorted(
        IssuedDocument.objects.filter(kind=DocumentKind.MONTHLY_STATEMENT).values_list("subject_key", "version")
    )


def test_last_months_statements_are_issued_once(claims, finance, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    entry = django_settings.CELERY_BEAT_SCHEDULE["finance-monthly-statements"]
    assert entry["task"] == issue_monthly_statements.name

    # 2026-10-31 17:00 UTC is November in Shanghai, still October in UTC.
    boundary = datetime(2026, 10, 31, 17, 0, tzinfo=UTC)
    sh = decided(claims, "sh", "Asia/Shanghai", boundary)
    utc = decided(claims, "utc", "UTC", boundary)
    paid = decided(
        claims, "paid", "Asia/Shanghai", datetime(2026, 10, 10, tzinfo=UTC), finance, datetime(2026, 11, 20, tzinfo=UTC)
    )
    la = decided(claims, "la", "America/Los_Angeles", datetime(2026, 11, 15, tzinfo=UTC))
    claims.merchant("idle", "No claims")

    # 2026-12-01 02:00 UTC: December in Shanghai and UTC, still November 30 in Los Angeles.
    result = issue_monthly_statements(now="2026-12-01T02:00:00+00:00")
    assert sorted(result["issued"]) == sorted([f"merchant:{sh.pk}:2026-11", f"merchant:{paid.pk}:2026-11"])
    assert result["existing"] == 0 and result["failed"] == []
    doc = IssuedDocument.objects.get(subject_key=f"merchant:{sh.pk}:2026-11")
    assert doc.period.isoformat() == "2026-11-01" and doc.issued_by is None
    assert doc.file.open("rb").read(5) == b"%PDF-"

    # Again, and a day later: nothing new for November in Shanghai, Los Angeles' November now.
    before = statements()
    again = issue_monthly_statements(now="2026-12-01T02:00:00+00:00")
    assert again == {"issued": [], "existing": 2, "failed": []}
    assert statements() == before
    later = issue_monthly_statements(now="2026-12-02T02:00:00+00:00")
    assert later["issued"] == [f"merchant:{la.pk}:2026-11"] and later["existing"] == 2
    assert all(version == 1 for _key, version in statements())

    # The UTC merchant's claim belongs to its October statement.
    october = issue_monthly_statements(now="2026-11-05T00:00:00+00:00")
    assert f"merchant:{utc.pk}:2026-10" in october["issued"]
    assert f"merchant:{sh.pk}:2026-10" not in october["issued"]
