"""People read names, not keys: the ledger shows an incident's reference and title (the files keep
its source:reference key), the documents list says what each document is about and "Version n"."""

from datetime import date

import pytest
from django.utils import timezone, translation

from incidents.models import Incident
from settlements import exports
from settlements.models import DocumentKind
from settlements.services import documents as ds
from tests.layout import assert_no_overlap, open_as

SIZES = [(1366, "en"), (375, "en"), (1366, "zh-hans"), (375, "zh-hans")]


def _statuswatch_claim(claims):
    claim = claims.accepted("88.00")
    Incident.objects.filter(pk=claim.incident_id).update(source="statuswatch", external_id="SW-2026-077")
    return claim


@pytest.mark.django_db
def test_the_ledger_files_keep_the_key(claims):
    claim = _statuswatch_claim(claims)
    today = timezone.localdate(claim.accepted_at)
    rows = list(exports.ledger_rows(today.replace(day=1), today))
    assert rows[1][exports.LEDGER_COLUMNS.index("incident")] == "statuswatch:SW-2026-077"
    page = exports.ledger_page(today.replace(day=1), today)
    assert (page["rows"][0]["incident_reference"], page["rows"][0]["incident_title"]) == (
        "SW-2026-077",
        "视频推流中断 Video ingest outage",
    )


@pytest.mark.django_db
def test_document_labels_name_their_subject(claims, finance, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    claim = claims.accepted("88.00")
    statement = ds.issue(kind=DocumentKind.CLAIM_STATEMENT, claim_id=claim.pk, by=finance)
    monthly = ds.issue(
        kind=DocumentKind.MONTHLY_STATEMENT, merchant_id=claim.merchant_id, period=date(2026, 11, 1), by=finance
    )
    with translation.override("en"):
        assert statement.subject_label == f"Claim #{claim.pk} · 茶馆 Tea House"
        assert monthly.subject_label == "Monthly statement · 茶馆 Tea House · November 2026"
        assert statement.version_label == "Version 1"
    with translation.override("zh-hans"):
        assert statement.subject_label == f"理赔 #{claim.pk} · 茶馆 Tea House"
        assert monthly.subject_label == "月度对账单 · 茶馆 Tea House · 2026年11月"
        assert statement.version_label == "第 1 版"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("width", "lang"), SIZES)
def test_ledger_and_documents_pages_show_names(
    browser, live_server, claims, finance, screenshot, settings, tmp_path, width, lang
):
    settings.MEDIA_ROOT = tmp_path
    claim = _statuswatch_claim(claims)
    ds.issue(kind=DocumentKind.CLAIM_STATEMENT, claim_id=claim.pk, by=finance)
    ds.issue(kind=DocumentKind.MONTHLY_STATEMENT, merchant_id=claim.merchant_id, period=date(2026, 11, 1), by=finance)
    context, page = open_as(browser, live_server, finance.username, width=width, lang=lang)

    page.goto(f"{live_server.url}/finance/ledger/")
    cell = page.locator(f"#ledger-rows tr[data-claim='{claim.pk}'] td.incident").inner_text()
    assert "SW-2026-077" in cell and "Video ingest outage" in cell and "statuswatch" not in cell
    assert_no_overlap(page)
    screenshot(page, f"ledger-names-{width}-{lang}")

    page.goto(f"{live_server.url}/finance/documents/")
    subjects = page.locator("td.subject").all_inner_texts()
    versions = page.locator("td.version").all_inner_texts()
    with translation.override(lang):
        claim_label = translation.gettext("Claim #%(id)s · %(merchant)s") % {
            "id": claim.pk,
            "merchant": "茶馆 Tea House",
        }
        version = translation.gettext("Version %(n)s") % {"n": 1}
    [monthly] = [s for s in subjects if s != claim_label]
    assert claim_label in subjects and "茶馆 Tea House · " in monthly and "2026" in monthly
    assert set(versions) == {version}
    body = page.locator("main").inner_text()
    assert "claim:" not in body and "merchant:" not in body and "statement-5" not in body
    assert_no_overlap(page)
    screenshot(page, f"documents-names-{width}-{lang}")

    page.goto(f"{live_server.url}/console/claims/{claim.pk}/")
    assert version in page.locator("section.documents").inner_text()
    context.close()
