import csv
import io

import pytest
from django.urls import reverse

from claims.models import ClaimState
from settlements.models import BatchState, DocumentKind, SettlementBatch
from settlements.services import documents as ds
from settlements.services import settlements as st
from tests.conftest import browser_login
from tests.factories import Claims


@pytest.mark.django_db
def test_finance_pages_role_only(client, claims, finance):
    claims.accepted("10.00")
    for name in ["finance:home", "finance:ledger", "finance:recovery", "finance:documents"]:
        client.force_login(finance)
        assert client.get(reverse(name)).status_code == 200, name
        client.force_login(claims.support)
        assert client.get(reverse(name)).status_code == 403, name
    client.force_login(claims.support)
    assert client.post(reverse("finance:home"), {"note": "x"}).status_code == 403
    assert not SettlementBatch.objects.exists()
    client.force_login(finance)
    assert client.get(reverse("home")).url == reverse("finance:home")


@pytest.mark.django_db
def test_page_flow_and_streaming_exports(client, claims, finance):
    a = claims.accepted("10.00")
    client.force_login(finance)
    r = client.post(reverse("finance:home"), {"note": "Nov"})
    batch = SettlementBatch.objects.get()
    assert r.url == reverse("finance:batch", args=[batch.pk])
    client.post(reverse("finance:batch_action", args=[batch.pk, "add"]))
    client.post(reverse("finance:batch_action", args=[batch.pk, "lock"]))
    client.post(reverse("finance:batch_action", args=[batch.pk, "export"]))
    batch.refresh_from_db()
    assert batch.state == BatchState.EXPORTED
    r1 = client.get(reverse("finance:batch_export", args=[batch.pk, "csv"]))
    assert r1.streaming
    body1 = b"".join(r1.streaming_content)
    body2 = b"".join(client.get(reverse("finance:batch_export", args=[batch.pk, "csv"])).streaming_content)
    assert body1 == body2 and f",{a.pk},".encode() in body1
    x = b"".join(client.get(reverse("finance:batch_export", args=[batch.pk, "xlsx"])).streaming_content)
    assert x[:2] == b"PK"
    assert x == b"".join(client.get(reverse("finance:batch_export", args=[batch.pk, "xlsx"])).streaming_content)
    bad = io.BytesIO(b"claim_id,amount,currency,status,payment_reference\n1,x,CNY,paid,\n")
    bad.name = "bank.csv"
    client.post(reverse("finance:batch_action", args=[batch.pk, "import"]), {"file": bad})
    page = client.get(reverse("finance:batch", args=[batch.pk])).content.decode()
    assert 'id="import-errors"' in page
    # The history speaks labels, not codes.
    assert "<strong>Locked</strong> (Open → Locked)" in page and "<strong>Claim added</strong> <a href=" in page
    assert "add_claims" not in page and "(· → pending)" not in page
    led = client.get(reverse("finance:ledger"), {"start": "2026-01-01", "end": "2026-12-31", "format": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(led.streaming_content).decode("utf-8-sig"))))
    assert rows[-1][0] == "TOTAL" and rows[-1][3] == "10.00"  # totals table: totals, currency, claims, approved


@pytest.mark.django_db
def test_document_download_checks_ownership(client, claims, finance):
    mine = claims.accepted("10.00")
    other = claims.accepted("20.00", merchant=claims.merchant("silk"))
    d_mine = ds.issue(kind=DocumentKind.CLAIM_STATEMENT, claim_id=mine.pk)
    d_other = ds.issue(kind=DocumentKind.CLAIM_STATEMENT, claim_id=other.pk)
    client.force_login(claims.user_of(mine.merchant))
    r = client.get(reverse("finance:download", args=[d_mine.pk]))
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert b"".join(r.streaming_content)[:5] == b"%PDF-"
    assert client.get(reverse("finance:download", args=[d_other.pk])).status_code == 404
    assert client.get(f"/api/finance/documents/{d_other.pk}/download/").status_code == 404
    ids = [d["id"] for d in client.get("/api/finance/documents/").json()]
    assert ids == [d_mine.pk]
    client.force_login(claims.support)
    assert client.get(reverse("finance:download", args=[d_other.pk])).status_code == 200
    # The include for the portal's claim page: latest with history.
    ds.issue(kind=DocumentKind.CLAIM_STATEMENT, claim_id=mine.pk, reason="更正")
    from django.template import RequestContext, Template
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = claims.user_of(mine.merchant)
    html = Template('{% include "documents/_list.html" with claim=claim %}').render(
        RequestContext(request, {"claim": mine})
    )
    assert "Version 2" in html and "Earlier versions" in html and f"/finance/documents/{d_mine.pk}/download/" in html


@pytest.mark.django_db
def test_api_settlement_cycle(api_client, claims, finance):
    a = claims.accepted("33.30")
    api_client.force_authenticate(claims.support)
    assert api_client.post("/api/finance/batches/", {}, format="json").status_code == 403
    api_client.force_authenticate(finance)
    b = api_client.post("/api/finance/batches/", {"note": "api"}, format="json").json()
    assert api_client.post(f"/api/finance/batches/{b['id']}/add/", {}, format="json").status_code == 200
    assert api_client.post(f"/api/finance/batches/{b['id']}/lock/", {}, format="json").json()["state"] == "locked"
    assert api_client.post(f"/api/finance/batches/{b['id']}/export/", {}, format="json").json()["state"] == "exported"
    f = io.BytesIO(f"claim_id,amount,currency,status,payment_reference\n{a.pk},33.30,CNY,paid,API-1\n".encode())
    f.name = "bank.csv"
    r = api_client.post(f"/api/finance/batches/{b['id']}/payments/", {"file": f}, format="multipart")
    assert r.status_code == 200 and r.json()["paid"] == 1 and r.json()["batch_state"] == "paid"
    assert api_client.get("/api/finance/recovery/").status_code == 200
    a.refresh_from_db()
    assert a.state == ClaimState.SETTLED


@pytest.mark.browser
def test_finance_browser_batch_flow(page, make_user, screenshot, tmp_path):
    claims = Claims()
    a = claims.accepted("1200.00")
    b = claims.accepted("80.55", merchant=claims.merchant("silk", "丝绸之路"))
    make_user("fay-finance", "finance")
    browser_login(page, "fay-finance")
    assert page.url.endswith("/finance/")
    page.fill("#new-batch input[name=note]", "November payout")
    page.click("#new-batch button[type=submit]")
    page.wait_for_load_state()
    page.click("#add-all button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#items tbody tr").count() == 2
    page.click("#lock button[type=submit]")
    with page.expect_navigation():
        page.click("#confirm-dialog button[value=yes]")  # locking asks first
    assert "Locked" in page.inner_text("#batch-state")
    page.click("#export button[type=submit]")
    with page.expect_navigation():
        page.click("#confirm-dialog button[value=yes]")  # exporting asks first
    with page.expect_download() as info:
        page.click("#dl-csv")
    exported = tmp_path / "batch.csv"
    info.value.save_as(exported)
    rows = list(csv.reader(io.StringIO(exported.read_bytes().decode("utf-8-sig"))))
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(rows[0])
    for r in rows[1:]:
        if r[0] != "TOTAL":
            r[7], r[8] = "paid", f"BANK-{r[1]}"
        w.writerow(r)
    result = tmp_path / "bank-result.csv"
    result.write_text(out.getvalue(), encoding="utf-8")
    page.set_input_files("#import input[type=file]", str(result))
    page.click("#import button[type=submit]")
    with page.expect_navigation():
        page.click("#confirm-dialog button[value=yes]")  # importing payments asks first
    assert "Paid" in page.inner_text("#batch-state")
    for claim in (a, b):
        assert "Settled" in page.inner_text(f"#items tr[data-claim='{claim.pk}'] .claim-state")
    screenshot(page, "finance_batch_paid")
    a.refresh_from_db()
    assert a.state == ClaimState.SETTLED and a.payment_reference == f"BANK-{a.pk}"
    assert st.eligible_claims().count() == 0


@pytest.mark.django_db
def test_payment_upload_checked_on_page_and_api(client, api_client, claims, finance):
    from settlements import exports

    a = claims.accepted("10.00")
    batch = st.create_batch(by=finance)
    st.add_claims(batch=batch, by=finance)
    st.lock(batch=batch, by=finance)
    st.mark_exported(batch=batch, by=finance, sha256="a" * 64)
    client.force_login(finance)
    url = reverse("finance:batch_action", args=[batch.pk, "import"])
    sheet = io.BytesIO(exports.xlsx_bytes(exports.batch_rows(batch), batch.reference))
    sheet.name = "bank.xlsx"
    page = client.post(url, {"file": sheet}, follow=True).content.decode()
    assert "must be a CSV text file" in page
    api_client.force_authenticate(finance)
    sheet.seek(0)
    r = api_client.post(f"/api/finance/batches/{batch.pk}/payments/", {"file": sheet}, format="multipart")
    assert r.status_code == 400 and r.json()["code"] == "bad_type"
    good = f"claim_id,amount,currency,status,payment_reference\n{a.pk},10.00,CNY,paid,B-1\n".encode()
    for expected in ("1 paid", "imported before"):
        f = io.BytesIO(good)
        f.name = "bank.csv"
        assert expected in client.post(url, {"file": f}, follow=True).content.decode()
    a.refresh_from_db()
    assert a.state == ClaimState.SETTLED


@pytest.mark.django_db
def test_document_requests_are_checked_before_queueing(
    client, api_client, claims, finance, monkeypatch, settings, tmp_path
):
    from settlements.models import IssuedDocument
    from settlements.tasks import issue_document

    settings.MEDIA_ROOT = tmp_path
    queued = []

    def run_now(*args, **kwargs):
        queued.append((args, kwargs))
        return issue_document.apply(args, kwargs, throw=True)

    monkeypatch.setattr(issue_document, "delay", run_now)
    claim = claims.accepted("10.00")
    client.force_login(finance)
    url = reverse("finance:issue")

    def post(**data):
        return client.post(url, data, follow=True).content.decode()

    page = post(kind="monthly_statement", merchant="", period="2026-11")
    assert "Choose a merchant for a monthly statement." in page and "Unknown merchant." not in page
    assert "Choose a month." in post(kind="monthly_statement", merchant=claim.merchant_id, period="")
    assert "No claim with this number." in post(kind="claim_statement", claim="999999")
    assert "Enter the claim number." in post(kind="claim_statement", claim="")
    assert "Unknown document kind." in post(kind="nonsense", claim=claim.pk)
    assert queued == []
    assert "being generated" in post(kind="claim_statement", claim=claim.pk)
    assert "exists already" in post(kind="claim_statement", claim=claim.pk)
    assert "being generated" in post(kind="claim_statement", claim=claim.pk, reason="更正 corrected")
    assert len(queued) == 2
    assert len({kwargs["request_id"] for _args, kwargs in queued}) == 2  # one id per request
    assert list(IssuedDocument.objects.values_list("version", "reason")) == [(2, "更正 corrected"), (1, "")]
    page = client.get(reverse("finance:documents")).content.decode()
    assert f'<option value="{claim.merchant_id}">{claim.merchant.name} ({claim.merchant.code})</option>' in page

    api_client.force_authenticate(finance)
    r = api_client.post("/api/finance/documents/", {"kind": "claim_statement", "claim": 999999}, format="json")
    assert r.status_code == 400 and r.json()["code"] == "unknown_claim" and r.json()["field"] == "claim"
    r = api_client.post("/api/finance/documents/", {"kind": "claim_statement"}, format="json")
    assert r.status_code == 400 and r.json()["code"] == "claim_required" and r.json()["field"] == "claim"
    r = api_client.post("/api/finance/documents/", {"kind": "claim_statement", "claim": claim.pk}, format="json")
    assert r.status_code == 200 and r.json()["version"] == 2
    assert api_client.get("/api/finance/documents/?claim=abc").status_code == 400
    assert len(queued) == 2


@pytest.mark.django_db
def test_finance_list_pages_run_a_constant_number_of_queries(client, claims, finance, make_user, settings, tmp_path):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.MEDIA_ROOT = tmp_path
    pages = [
        reverse("finance:home"),
        reverse("finance:recovery"),
        reverse("finance:documents"),
    ]
    client.force_login(finance)

    def counts(batch):
        urls = [*pages, reverse("finance:batch", args=[batch.pk])]
        result = []
        for url in urls:
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200
            result.append(len(ctx))
        return result

    def batch_of(n, start):
        for i in range(n):
            claims.accepted("10.00", merchant=claims.merchant(f"q{start + i}"))
        # Each batch created by another finance user, so the creator is not the cached request user.
        batch = st.create_batch(by=make_user(f"fin-{start}", "finance"))
        st.add_claims(batch=batch, by=finance)
        ds.issue(kind=DocumentKind.CLAIM_STATEMENT, claim_id=batch.items.first().claim_id)
        return batch

    small = counts(batch_of(1, 0))
    for k in range(1, 4):
        big_batch = batch_of(3, 10 * k)
    assert counts(big_batch) == small
    assert max(small) <= 15

    # Thousands of claims are paged: a batch of 230 items (3 item pages) and 232 events (5 history pages).
    merchants = [claims.merchant("many-a"), claims.merchant("many-b"), claims.merchant("many-u", currency="USD")]
    for i in range(230):
        claims.accepted(f"{i + 1}.01", merchant=merchants[i % 3])
    many = st.create_batch(by=finance)
    st.add_claims(batch=many, by=finance)
    assert many.items.count() == 230 and many.events.count() == 232
    url = reverse("finance:batch", args=[many.pk])
    for query in ["", "?page=2", "?page=3&events=5", "?page=oops&events=99"]:
        with CaptureQueriesContext(connection) as ctx:
            r = client.get(url + query)
        assert r.status_code == 200 and len(ctx) == small[-1], (query, [q["sql"] for q in ctx])
    assert len(r.context["items"]) == 100 and r.context["events"].number == 5


@pytest.mark.django_db
def test_batch_page_totals_per_currency_reconcile_to_the_cent(client, claims, finance):
    import re

    made = [
        claims.accepted(amount, merchant=claims.merchant(f"t{i}", f"T{i}", currency))
        for i, (amount, currency) in enumerate([("0.10", "CNY"), ("0.20", "CNY"), ("1234.57", "CNY"), ("0.01", "USD")])
    ]
    batch = st.create_batch(by=finance)
    st.add_claims(batch=batch, by=finance)
    st.lock(batch=batch, by=finance)
    st.mark_exported(batch=batch, by=finance, sha256="b" * 64)
    rows = [f"{c.pk},{c.approved_amount},{c.currency},paid,P-{c.pk}," for c in made[1:]]
    rows.insert(0, f"{made[0].pk},0.10,CNY,failed,,")
    header = "claim_id,amount,currency,status,payment_reference,failure_reason\n"
    result = st.import_payments(batch=batch, by=finance, data=(header + "\n".join(rows)).encode())
    assert result.ok
    client.force_login(finance)
    page = client.get(reverse("finance:batch", args=[batch.pk])).content.decode()
    totals = {
        cur: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()
        for cur, html in re.findall(r'<tr class="total" data-currency="(\w+)">(.*?)</tr>', page)
    }
    assert totals == {
        "CNY": "Total CNY (3) 1,234.87 CNY Paid 1,234.77 CNY · Failed 0.10 CNY",
        "USD": "Total USD (1) 0.01 USD Paid 0.01 USD",
    }


@pytest.mark.browser
def test_finance_batch_page_in_chinese_on_a_phone(browser, live_server, make_user, screenshot, monkeypatch):
    """A paid batch at 375 px in zh-hans: translated history, totals, no sideways scrolling (long SHA-256),
    the history paged back to the oldest event."""
    from settlements import views

    monkeypatch.setattr(views, "EVENTS_PER_PAGE", 4)
    batch = _partially_paid_batch(make_user("fay-finance", "finance"))
    context = browser.new_context(viewport={"width": 375, "height": 812}, locale="zh-CN")
    page = context.new_page()
    page.base_url = live_server.url
    try:
        browser_login(page, "fay-finance")
        page.select_option("select[name=language]", "zh-hans")
        with page.expect_navigation():
            page.click("form.langswitch button[type=submit]")
        page.goto(f"{live_server.url}/finance/batches/{batch.pk}/")
        _shows_totals_in_chinese_without_sideways_scrolling(page, screenshot)
        _pages_the_history_back_to_the_oldest_event(page, batch)
    finally:
        context.close()


def _partially_paid_batch(finance):
    claims = Claims()
    paid = claims.accepted("1200.00")
    failed = claims.accepted("80.55", merchant=claims.merchant("silk", "丝绸之路"))
    batch = st.create_batch(by=finance, note="十一月")
    st.add_claims(batch=batch, by=finance)
    st.lock(batch=batch, by=finance)
    st.mark_exported(batch=batch, by=finance, sha256="9" * 64)
    st.import_payments(
        batch=batch,
        by=finance,
        data=(
            "claim_id,amount,currency,status,payment_reference,failure_reason\n"
            f"{paid.pk},1200.00,CNY,paid,BANK-1,\n{failed.pk},80.55,CNY,failed,,账户冻结\n"
        ).encode(),
    )
    return batch


def _shows_totals_in_chinese_without_sideways_scrolling(page, screenshot):
    assert page.inner_text("#batch-state") == "部分付款"
    history = page.inner_text("ul.timeline")
    assert "lock" not in history and "pending" not in history
    assert "已付款 1,200.00 CNY · 失败 80.55 CNY" in page.inner_text("#items tfoot")
    overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")
    screenshot(page, "finance_batch_zh_375px")
    assert not overflow, "the batch page scrolls sideways at 375px"
    assert "已锁定" not in history  # the latest 4 events only; locking is older


def _pages_the_history_back_to_the_oldest_event(page, batch):
    seen = page.locator("ul.timeline li").all_inner_texts()
    while page.locator("#history a[rel=next]").count():
        assert page.inner_text("#history a[rel=next]") == "较早的记录"
        page.click("#history a[rel=next]")
        page.wait_for_load_state()
        seen += page.locator("ul.timeline li").all_inner_texts()
    pages = -(-batch.events.count() // 4)
    assert f"第 {pages} 页，共 {pages} 页" in page.inner_text("#history .pagination")
    assert page.inner_text("#history a[rel=prev]") == "较新的记录"
    assert len(seen) == len(set(seen)) == batch.events.count() and len(seen) > 4
    assert any("已锁定" in e for e in seen) and "批次已创建" in seen[-1]
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.django_db
def test_batch_page_pages_items_and_history_with_totals_over_the_whole_batch(client, claims, finance, monkeypatch):
    import re

    from settlements import views

    monkeypatch.setattr(views, "ITEMS_PER_PAGE", 10)
    monkeypatch.setattr(views, "EVENTS_PER_PAGE", 8)
    cny, usd = claims.merchant("pa"), claims.merchant("pu", currency="USD")
    made = [claims.accepted(f"{i}.10", merchant=usd if i % 4 == 0 else cny) for i in range(1, 26)]
    batch = st.create_batch(by=finance)
    st.add_claims(batch=batch, by=finance)  # 1 create + 25 add + 1 add_claims = 27 events
    client.force_login(finance)
    url = reverse("finance:batch", args=[batch.pk])

    def get(query=""):
        return client.get(url + query).content.decode()

    def claim_ids(page):
        return [int(i) for i in re.findall(r'<tr data-claim="(\d+)">', page)]

    pages = [get(f"?page={n}") for n in (1, 2, 3)]
    assert [len(claim_ids(p)) for p in pages] == [10, 10, 5]
    assert sum((claim_ids(p) for p in pages), []) == sorted(c.pk for c in made)
    assert claim_ids(get("?page=99")) == claim_ids(pages[2]) and claim_ids(get("?page=x")) == claim_ids(pages[0])
    for page in pages:  # every page totals the whole batch, in the database
        assert re.search(r'data-currency="CNY"><th colspan="3">Total CNY \(19\)</th><th class="num">242\.90 CNY', page)
        assert re.search(r'data-currency="USD"><th colspan="3">Total USD \(6\)</th><th class="num">84\.60 USD', page)
    assert "Page 2 of 3" in pages[1] and 'href="?page=1#items"' in pages[1] and 'href="?page=3#items"' in pages[1]

    # History: the latest 8 events, newest first, and a link to older ones that keeps the items page.
    history = re.findall(r"<li>.*?</li>", pages[1].split('id="history"')[1])
    assert len(history) == 8 and "Claims added" in history[0]
    assert 'href="?page=2&amp;events=2#history"' in pages[1] and "Older events" in pages[1]
    last = get("?page=2&events=4")
    assert "Page 4 of 4" in last and "Newer events" in last and "Older events" not in last
    oldest = re.findall(r"<li>.*?</li>", last.split('id="history"')[1])
    assert len(oldest) == 3 and "Batch created" in oldest[-1]
    assert claim_ids(last) == claim_ids(pages[1])  # the items page is kept

    # Removing an item on page 3 comes back to page 3.
    item = batch.items.get(claim=made[-1])
    r = client.post(
        reverse("finance:batch_action", args=[batch.pk, "remove"]), {"item": item.pk, "reason": "dup", "page": "3"}
    )
    assert r.url == f"{url}?page=3#items"


@pytest.mark.django_db
def test_add_selected_list_says_how_many_eligible_claims_it_leaves_out(client, claims, finance, monkeypatch):
    from settlements import views

    monkeypatch.setattr(views, "ELIGIBLE_SHOWN", 3)
    made = [claims.accepted(f"{i}.00", merchant=claims.merchant(f"e{i}")) for i in range(1, 6)]
    batch = st.create_batch(by=finance)
    client.force_login(finance)
    url = reverse("finance:batch", args=[batch.pk])
    page = client.get(url).content.decode()
    assert page.count('name="claim"') == 3 and f'value="{made[0].pk}"' in page  # the oldest first
    assert "Showing the oldest 3 of 5 eligible claims." in page
    more = page.split('id="eligible-more"')[1].split("</p>")[0]
    assert 'href="#add-all"' in more and "Add all eligible claims of the period" in more
    st.add_claims(batch=batch, by=finance, claim_ids=[made[0].pk, made[1].pk])
    page = client.get(url).content.decode()
    assert page.count('name="claim"') == 3 and 'id="eligible-more"' not in page  # all 3 left are shown
    client.post(reverse("set_language"), {"language": "zh-hans", "next": url})
    claims.accepted("9.00", merchant=claims.merchant("e9"))
    page = client.get(url).content.decode()
    assert "仅显示最早的 3 条，共 4 条符合条件的理赔。" in page and "添加该期间所有符合条件的理赔" in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "unknown", "missing"),
    [
        ("en", "No claim with this number.", "Enter the claim number."),
        ("zh-hans", "没有这个编号的理赔。", "请输入理赔编号。"),
    ],
)
def test_a_bad_claim_number_is_marked_on_its_field_and_the_form_keeps_what_was_typed(
    client, claims, finance, monkeypatch, language, unknown, missing
):
    """The document form is an action like the others: refused, the page is drawn again (400) with
    the bound form, the error on the claim number field and in the focused summary; nothing queued."""
    from types import SimpleNamespace

    from settlements.models import IssuedDocument
    from settlements.tasks import issue_document

    queued = []
    monkeypatch.setattr(issue_document, "delay", lambda *a, **k: queued.append((a, k)) or SimpleNamespace(id="t1"))
    client.force_login(finance)
    url = reverse("finance:issue")
    headers = {"HTTP_ACCEPT_LANGUAGE": language}

    response = client.post(url, {"kind": "evidence_pack", "claim": "987654", "reason": "typed"}, **headers)
    page = response.content.decode()
    assert response.status_code == 400
    assert f'<p class="error" id="id_issue_claim_error">{unknown}</p>' in page
    assert 'id="error-summary" role="alert"' in page and 'href="#id_issue_claim">' in page
    assert 'value="987654"' in page and 'value="typed"' in page  # what was typed is kept
    assert '<option value="evidence_pack" selected>' in page

    response = client.post(url, {"kind": "claim_statement", "claim": ""}, **headers)
    assert response.status_code == 400
    assert f'<p class="error" id="id_issue_claim_error">{missing}</p>' in response.content.decode()

    response = client.post(url, {"kind": "claim_statement", "claim": "abc"}, **headers)
    assert response.status_code == 400 and 'id="id_issue_claim_error"' in response.content.decode()
    assert queued == [] and not IssuedDocument.objects.exists()

    claim = claims.accepted("10.00")
    response = client.post(url, {"kind": "claim_statement", "claim": claim.pk}, **headers)
    assert response.status_code == 302 and response["Location"] == reverse("finance:documents")
    assert len(queued) == 1 and queued[0][1]["claim_id"] == claim.pk
