import hashlib
import io
import subprocess
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from pypdf import PdfReader

from claims import services as wf
from incidents.models import IncidentUpdate
from losses.engine import assess_incident
from settlements import documents as docs
from settlements.models import DocumentKind, IssuedDocument
from settlements.services import documents as ds
from settlements.services import settlements as st
from settlements.tasks import issue_document
from sla.models import SLAContract, SLAEvaluation
from tests.factories import LiveSessionFactory, SLAContractFactory, SLAEvaluationFactory, session_minutes

from .conftest import T0

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
MIN = timedelta(minutes=1)


def pdf_text(data: bytes) -> str:
    out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True)
    return out.stdout.decode()


def build_world(claims, finance, settle=True):
    """A resolved incident with a measured session, its loss assessment, SLA facts, an accepted (and paid) claim."""
    merchant = claims.merchant("tea", "茶馆 Tea House")
    incident = _incident_with_timeline(claims)
    _session_selling_less_during(incident, merchant)
    (assessment,) = assess_incident(incident)
    _missed_sla_month(incident)
    claim = _accepted_claim(claims, merchant, incident, assessment.compensation)
    if settle:
        claim = _paid(claim, finance)
    return claim, assessment


def _incident_with_timeline(claims):
    incident = claims.incident(start=T0, minutes=40)
    IncidentUpdate.objects.create(
        incident=incident, kind="created", to_state="detected", message="监控告警", origin="webhook"
    )
    IncidentUpdate.objects.create(
        incident=incident,
        kind="transition",
        from_state="detected",
        to_state="resolved",
        message="已恢复",
        origin="console",
    )
    return incident


def _session_selling_less_during(incident, merchant):
    """100.00 a minute for an hour before, 20.00 during the 40 minutes, 100.00 after."""
    session = LiveSessionFactory(
        merchant=merchant, external_id="LIVE-8848", started_at=T0 - 60 * MIN, ended_at=T0 + 90 * MIN
    )
    session_minutes(
        session, T0 - 60 * MIN, 150, lambda i: "20.00" if 0 <= i - 60 < 40 else "100.00", "1.00", viewers=0, orders=0
    )


def _missed_sla_month(incident):
    contract = SLAContractFactory(
        code="rtc-main",
        provider=incident.service.provider,
        monthly_fee=Decimal("100000.00"),
        availability_target=Decimal("99.9500"),
        degraded_weight=Decimal("0.25"),
        maintenance_notice_hours=0,
        credit_tiers=[],
        recovery_targets=[],
        first_response_minutes=None,
        services=[incident.service.code],
    )
    SLAEvaluationFactory(contract=contract, evaluated_at=T0 + timedelta(days=1))


def _accepted_claim(claims, merchant, incident, amount):
    claim = claims.proposed(str(amount), merchant=merchant, incident=incident)
    wf.add_evidence(
        claim=claim,
        by=claims.user_of(merchant),
        upload=SimpleUploadedFile("直播截图.png", PNG, content_type="image/png"),
    )
    claim = wf.submit(claim=claim, by=claims.user_of(merchant))
    claim = wf.start_review(claim=claim, by=claims.support)
    claim = wf.approve(
        claim=claim, by=claims.support, reason="loss_confirmed", message="与指标一致 Matches the metrics."
    )
    return wf.accept(claim=claim, by=claims.user_of(merchant))


def _paid(claim, finance):
    batch = st.create_batch(by=finance)
    st.add_claims(batch=batch, by=finance)
    st.lock(batch=batch, by=finance)
    st.mark_exported(batch=batch, by=finance, sha256="0" * 64)
    paid = f"claim_id,amount,currency,status,payment_reference\n{claim.pk},{claim.approved_amount},CNY,paid,银行-001\n"
    st.import_payments(batch=batch, by=finance, data=paid.encode())
    claim.refresh_from_db()
    return claim


@pytest.mark.django_db
def test_claim_statement_text_pages_and_png(claims, finance):
    claim, assessment = build_world(claims, finance)
    assert assessment.compensation > 0
    doc = ds.issue(kind=DocumentKind.CLAIM_STATEMENT, claim_id=claim.pk, by=finance)
    assert doc.version == 1 and doc.template_version == "statement-5"
    data = doc.file.read()
    assert hashlib.sha256(data).hexdigest() == doc.sha256 and len(data) == doc.size
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == doc.pages
    assert 1 <= doc.pages <= 3
    text = pdf_text(data)
    for expected in [
        "理赔结算单",
        "Claim settlement statement",
        "茶馆 Tea House",
        f"C-{claim.pk:06d}",
        "视频推流中断",
        "重大故障 / Major outage",  # values bilingual like their labels
        "服务商 / Provider",
        "已结算 / Settled",
        "数据指标证实存在损失 / Loss confirmed by the metrics",
        "GMV per minute (CNY)",  # the chart's axis has its unit
        "每分钟成交额（CNY）",
        "2026-11-02 11:00",  # the chart's start, ISO in the merchant's time zone
        "2026-11-02 12:00",  # start in the merchant's time zone
        "2026-11-02 12:40",
        "99.9074",
        "99.9500",
        "LIVE-8848",
        "损失明细",
        "与指标一致",
        f"{assessment.compensation:,.2f} CNY",
        "银行-001",
        "每分钟实际 GMV 与预期",  # loss model v2: the expected curve, not a flat baseline
        "净缺口",
        "5,000.00",  # expected: 100/min before and after, over the 50 affected minutes
        "1,800.00",  # actual: 40 minutes at 20, 10 at 100
        "3,200.00",  # net shortfall = expected − actual
        "= 赔偿 Compensation",
        "960.00",  # lost profit: 3,200.00 × 30 %
        "992.00",  # + 32.00 wasted ad spend (50 × 1.00 × 3,200 / 5,000), × 100 %
    ]:
        assert expected in text, expected
    assert "第 1 / " in text  # page footer
    # The amount payable is on page 1, even when the chart pushes the decision to page 2.
    page1 = subprocess.run(
        ["pdftotext", "-layout", "-f", "1", "-l", "1", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()
    assert "Amount payable" in page1 and f"{claim.approved_amount:,.2f} CNY" in page1
    # pypdf reads the Chinese text too.
    assert "应付金额" in reader.pages[0].extract_text() + "".join(p.extract_text() for p in reader.pages[1:])
    # The chart is drawn as vector paths (SVG), on page 1.
    ARTIFACTS.mkdir(exist_ok=True)
    out = ARTIFACTS / "finance_claim_statement"
    subprocess.run(
        ["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", "-singlefile", "-", str(out)], input=data, check=True
    )
    png = out.with_suffix(".png")
    assert png.exists() and png.stat().st_size > 10_000


@pytest.mark.django_db
def test_same_inputs_same_text_and_versions_never_overwritten(claims, finance):
    claim, _ = build_world(claims, finance)
    doc = ds.issue(kind=DocumentKind.CLAIM_STATEMENT, claim_id=claim.pk, by=finance)
    key, c, m, p = ds.subject_for(kind=DocumentKind.CLAIM_STATEMENT, claim_id=claim.pk)
    again, _pages = ds.render(
        kind=DocumentKind.CLAIM_STATEMENT, claim=c, merchant=m, period=p, version=1, issued_at=doc.issued_at
    )
    first = doc.file.read()
    assert pdf_text(again) == pdf_text(first)
    assert again == first  # byte-identical, not only the text
    # A repeated request without a reason returns the same version.
    assert ds.issue(kind=DocumentKind.CLAIM_STATEMENT, claim_id=claim.pk).pk == doc.pk
    v2 = ds.issue(
        kind=DocumentKind.CLAIM_STATEMENT, claim_id=claim.pk, by=finance, reason="更正商户名称 name corrected"
    )
    assert v2.version == 2 and v2.file.name != doc.file.name
    old = IssuedDocument.objects.get(pk=doc.pk)
    assert hashlib.sha256(old.file.read()).hexdigest() == doc.sha256  # v1 untouched
    assert "(v2)" in pdf_text(v2.file.read())
    assert [d.version for d in ds.history(kind=DocumentKind.CLAIM_STATEMENT, key=key)] == [2, 1]


@pytest.mark.django_db
def test_evidence_pack_and_monthly_statement(claims, finance):
    claim, _ = build_world(claims, finance)
    pack = ds.issue(kind=DocumentKind.EVIDENCE_PACK, claim_id=claim.pk, by=finance)
    text = pdf_text(pack.file.read())
    for expected in [
        "争议证据包",
        "Incident timeline",
        "监控告警",
        "审计记录",
        "Audit trail",
        "submit",
        "settle",
        "数据覆盖",
        "Data coverage",
        "100.0%",
        "证据文件",
        "直播截图.png",
    ]:
        assert expected in text, expected
    assert pack.pages >= 2
    month = timezone.localdate().replace(day=1)
    ms = issue_document.apply(
        kwargs={"kind": "monthly_statement", "merchant_id": claim.merchant_id, "period": month.isoformat()}
    ).get()
    doc = IssuedDocument.objects.get(pk=ms["id"])
    data = doc.file.read()
    text = pdf_text(data)
    assert "月度对账单" in text and "Monthly merchant statement" in text
    assert f"C-{claim.pk:06d}" in text and "银行-001" in text
    assert f"{claim.approved_amount:,.2f} CNY" in text
    assert doc.pages == len(PdfReader(io.BytesIO(data)).pages) == 1


@pytest.mark.django_db
def test_merchants_cannot_issue(claims, finance):
    claim, _ = build_world(claims, finance, settle=False)
    from core.errors import NotPermitted

    with pytest.raises(NotPermitted):
        ds.issue(kind=DocumentKind.CLAIM_STATEMENT, claim_id=claim.pk, by=claims.user_of(claim.merchant))


@pytest.mark.django_db
def test_provider_recovery_report(claims, finance):
    from settlements import selectors
    from sla.models import ProviderCreditClaim

    claim, _ = build_world(claims, finance)
    evaluation = SLAEvaluation.objects.get()
    cc = ProviderCreditClaim.objects.create(
        evaluation=evaluation,
        contract_code="rtc-main",
        period=date(2026, 11, 1),
        provider=evaluation.contract.provider,
        currency="CNY",
        amount_claimed=Decimal("10000.00"),
        amount_received=Decimal("300.00"),
        claim_deadline=date(2026, 12, 31),
    )
    rows = selectors.recovery_report()
    (row,) = rows
    assert row["month_label"] == "2026-11" and row["provider"] == "RTC Co"
    assert row["paid"] == claim.approved_amount
    assert [i["key"] for i in row["incidents"]] == [claim.incident.key]
    assert row["credit_due"] == Decimal("10000.00") and row["credit_received"] == Decimal("300.00")
    assert row["net_cost"] == claim.approved_amount - Decimal("300.00")
    assert row["credit_filed"] == 0 and row["credit_still_due"] == cc.outstanding == Decimal("9700.00")

    # The API gives the same figures as decimal strings, never JSON floats.
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(finance)
    body = api.get("/api/finance/recovery/").json()
    assert body["rows"][0]["paid"] == str(claim.approved_amount)
    assert body["rows"][0]["credit_received"] == "300.00"
    assert body["rows"][0]["net_cost"] == str(claim.approved_amount - Decimal("300.00"))
    assert body["totals"][0]["currency"] == "CNY"

    # Months chosen in the database, by the month containing start/end (project time zone), page and API alike.
    def months(**query):
        r = api.get("/api/finance/recovery/", query)
        assert r.status_code == 200, r.content
        return [row["month"] for row in r.json()["rows"]]

    assert months(start="2026-11-30", end="2026-11-30") == ["2026-11"]
    assert months(start="2026-12-01") == [] and months(end="2026-10-31") == []
    assert [r["month_label"] for r in selectors.recovery_report(start=date(2026, 11, 15), end=date(2026, 12, 31))] == [
        "2026-11"
    ]
    assert api.get("/api/finance/recovery/", {"start": "soon"}).status_code == 400


def _evaluation(contract, period, availability="99.9074"):
    return SLAEvaluation.objects.create(
        contract=contract,
        contract_code=contract.code,
        period=period,
        evaluated_at=T0 + timedelta(days=1),
        eligible_minutes=Decimal("43200"),
        excluded_minutes=Decimal("0"),
        downtime_minutes=Decimal("40"),
        availability_percent=Decimal(availability),
        availability_target=Decimal("99.9500"),
        tier_credit_percent=Decimal("10"),
        credit_percent=Decimal("10"),
        credit_amount=Decimal("10000.00"),
        currency="CNY",
        claim_deadline=date(2026, 12, 31),
    )


@pytest.mark.django_db
def test_sla_facts_are_the_incident_month_in_the_contract_time_zone(claims, finance):
    claim, _assessment = build_world(claims, finance, settle=False)
    assert docs._sla_facts(claim.incident) == [
        {
            "contract": "rtc-main",
            "period": "2026-11",
            "availability": "99.9074",
            "target": "99.9500",
            "met": False,
            "downtime": "40.00",
            "credit_percent": "10.00",
            "final": False,
        }
    ]
    # 2026-11-30 20:00 UTC is already December in Shanghai, still November for a UTC contract.
    late = claims.incident(start=datetime(2026, 11, 30, 20, 0, tzinfo=UTC))
    utc_contract = SLAContract.objects.create(
        code="rtc-utc",
        provider=late.service.provider,
        currency="CNY",
        monthly_fee=Decimal("100000.00"),
        effective_from=date(2026, 1, 1),
        availability_target=Decimal("99.9500"),
        partial_outage_weight=Decimal("0.5"),
        degraded_weight=Decimal("0.25"),
        timezone="UTC",
    )
    utc_contract.services.add(late.service)
    _evaluation(utc_contract, date(2026, 11, 1), "99.9900")
    _evaluation(utc_contract, date(2026, 12, 1), "99.1000")
    main = SLAContract.objects.get(code="rtc-main")
    _evaluation(main, date(2026, 12, 1), "99.5000")
    facts = docs._sla_facts(late)
    assert [(f["contract"], f["period"], f["availability"], f["met"]) for f in facts] == [
        ("rtc-main", "2026-12", "99.5000", False),
        ("rtc-utc", "2026-11", "99.9900", True),
    ]


@pytest.mark.django_db
def test_a_reissue_task_run_twice_issues_one_version(claims, finance, settings, tmp_path):
    """acks_late redelivers a task whose worker died after storing: the re-run returns the same version."""
    settings.MEDIA_ROOT = tmp_path
    claim = claims.accepted("10.00")
    first = ds.issue(kind=DocumentKind.CLAIM_STATEMENT, claim_id=claim.pk, by=finance)
    request = {"kind": "claim_statement", "claim_id": claim.pk, "user_id": finance.pk, "reason": "更正 corrected"}
    rid = str(uuid.uuid4())
    once = issue_document.apply(kwargs={**request, "request_id": rid}, throw=True).get()
    twice = issue_document.apply(kwargs={**request, "request_id": rid}, throw=True).get()
    assert once == twice and once["version"] == 2
    # Without an explicit request id the Celery task id serves: a redelivered message keeps it.
    tid = str(uuid.uuid4())
    again = issue_document.apply(kwargs=request, task_id=tid, throw=True).get()
    assert issue_document.apply(kwargs=request, task_id=tid, throw=True).get() == again
    # A new request is a new version.
    newer = issue_document.apply(kwargs={**request, "request_id": str(uuid.uuid4())}, throw=True).get()
    assert (again["version"], newer["version"]) == (3, 4)
    docs_ = IssuedDocument.objects.filter(subject_key=f"claim:{claim.pk}").order_by("version")
    assert [d.version for d in docs_] == [1, 2, 3, 4]
    assert docs_[0].pk == first.pk and str(docs_[1].request_id) == rid
    assert len(list((tmp_path / "documents" / "claim_statement" / f"claim-{claim.pk}").iterdir())) == 4
    # The id names one document: reused for another one it is a caller's bug, not a new version.
    other = claims.accepted("20.00", merchant=claims.merchant("silk"))
    with pytest.raises(ValueError, match=rid):
        ds.issue(kind=DocumentKind.CLAIM_STATEMENT, claim_id=other.pk, by=finance, reason="x", request_id=rid)


@pytest.mark.django_db
def test_two_runs_of_one_request_at_the_same_time_keep_one_version(claims, finance, settings, tmp_path, monkeypatch):
    """The run that loses the race on the request id's unique constraint drops its file and returns the winner's."""
    settings.MEDIA_ROOT = tmp_path
    claim = claims.accepted("10.00")
    ds.issue(kind=DocumentKind.CLAIM_STATEMENT, claim_id=claim.pk, by=finance)
    rid = uuid.uuid4()
    winner = ds.issue(kind=DocumentKind.CLAIM_STATEMENT, claim_id=claim.pk, by=finance, reason="a", request_id=rid)
    looked = []
    real = ds.issued_for_request

    def not_yet_committed(**kwargs):  # the first look happens before the other run commits
        looked.append(kwargs)
        return None if len(looked) == 1 else real(**kwargs)

    monkeypatch.setattr(ds, "issued_for_request", not_yet_committed)
    loser = ds.issue(kind=DocumentKind.CLAIM_STATEMENT, claim_id=claim.pk, by=finance, reason="a", request_id=rid)
    assert loser.pk == winner.pk and len(looked) == 2
    assert IssuedDocument.objects.filter(subject_key=f"claim:{claim.pk}").count() == 2
    assert len(list((tmp_path / "documents" / "claim_statement" / f"claim-{claim.pk}").iterdir())) == 2


@pytest.mark.celery_worker
def test_a_redelivered_reissue_on_a_real_worker_issues_one_version(
    celery_worker_thread, claims, finance, settings, tmp_path
):
    """The same message delivered twice to a real worker through Redis (same task id, no request id)."""
    settings.MEDIA_ROOT = tmp_path
    claim = claims.accepted("10.00")
    request = {"kind": "claim_statement", "claim_id": claim.pk, "user_id": finance.pk, "reason": "更正 corrected"}
    tid = str(uuid.uuid4())
    first = issue_document.apply_async(kwargs=request, task_id=tid).get(timeout=60)
    second = issue_document.apply_async(kwargs=request, task_id=tid).get(timeout=60)
    assert first == second and first["version"] == 1
    third = issue_document.apply_async(kwargs=request).get(timeout=60)
    assert third["version"] == 2
    assert IssuedDocument.objects.filter(subject_key=f"claim:{claim.pk}").count() == 2


@pytest.mark.django_db
def test_a_pdf_whose_row_never_committed_is_swept_and_issued_ones_are_kept(claims, finance, settings, tmp_path):
    """A rolled-back issue (as after a crash between file and commit) leaves a file without a row:
    the sweep deletes it once it is older than the grace period, never a file of an issued document."""
    from django.db import transaction

    settings.MEDIA_ROOT = tmp_path
    claim = claims.accepted("10.00")
    kept = ds.issue(kind=DocumentKind.CLAIM_STATEMENT, claim_id=claim.pk, by=finance)
    with pytest.raises(RuntimeError), transaction.atomic():
        ds.issue(kind=DocumentKind.CLAIM_STATEMENT, claim_id=claim.pk, by=finance, reason="reissue, rolled back")
        raise RuntimeError("the transaction around the issue fails after the file was written")
    folder = tmp_path / "documents" / "claim_statement" / f"claim-{claim.pk}"
    assert len(list(folder.iterdir())) == 2  # the orphan is on disk
    assert ds.sweep_orphan_files() == []  # too young: its transaction might still be running
    later = timezone.now() + ds.ORPHAN_GRACE + timedelta(minutes=1)
    removed = ds.sweep_orphan_files(now=later)
    assert len(removed) == 1 and removed[0] != kept.file.name
    assert [p.name for p in folder.iterdir()] == [Path(kept.file.name).name]
    assert kept.file.read()[:4] == b"%PDF"


def _pdf_fonts(data: bytes, tmp_path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdffonts", str(path)], capture_output=True, check=True, text=True).stdout


@pytest.mark.django_db
def test_statements_draw_chinese_with_the_prebuilt_subset_and_rare_characters_with_the_full_font(
    claims, finance, settings, tmp_path
):
    settings.PDF_FONT_CACHE_DIR = tmp_path / "fonts"  # created on demand
    claim, _ = build_world(claims, finance)
    claim.merchant.name = "堃记茶馆 Kun Tea"  # 堃 is not in GB 2312, so not in the subset
    claim.merchant.save(update_fields=["name"])
    data = ds.issue(kind=DocumentKind.CLAIM_STATEMENT, claim_id=claim.pk, by=finance).file.read()
    text = pdf_text(data)
    assert "理赔结算单" in text and "应付金额" in text and "堃记茶馆" in text
    fonts = _pdf_fonts(data, tmp_path)
    assert "PDF-Sans-CJK" in fonts  # the subset drew the text...
    assert "Noto-Sans-CJK-SC" in fonts  # ...and the full font the one character it lacks
    built = sorted(p.name for p in (tmp_path / "fonts").iterdir())
    assert len(built) == 2 and all(name.startswith("pdf-sans-cjk-") and name.endswith(".otf") for name in built)
    assert all((tmp_path / "fonts" / name).stat().st_size < 5_000_000 for name in built)  # not 19 MB

    settings.PDF_FONT_SUBSET = False  # WeasyPrint's default: the full font, subset per document
    again = ds.issue(kind=DocumentKind.CLAIM_STATEMENT, claim_id=claim.pk, by=finance, reason="font off").file.read()
    assert "PDF-Sans-CJK" not in _pdf_fonts(again, tmp_path) and "堃记茶馆" in pdf_text(again)
