"""Server-rendered portal and console pages: content, permissions, forms, query counts."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from claims import services
from claims.models import Claim, ClaimNotification, ClaimState
from claims.recompute import sync_incident_claims
from tests.factories import PNG, Flow, IncidentFactory, hit_session

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def hit_claim(merchant):
    incident = IncidentFactory(external_id="P-1")
    hit_session(incident, merchant)
    sync_incident_claims(incident)
    return Claim.objects.get(incident=incident)


def test_portal_home_lists_hit_incidents_and_proposals(client, merchant_user, hit_claim):
    client.force_login(merchant_user)
    html = client.get("/portal/").content.decode()
    assert "Compensation proposals waiting for you" in html
    assert f"/portal/claims/{hit_claim.pk}/" in html
    assert hit_claim.incident.title in html and f"{hit_claim.computed_amount:,.2f}" in html


def test_portal_detail_shows_breakdown_chart_and_submits(client, merchant_user, hit_claim):
    client.force_login(merchant_user)
    html = client.get(f"/portal/claims/{hit_claim.pk}/").content.decode()
    assert '<svg class="chart"' in html and "polyline" in html and 'class="outage"' in html
    assert "LS-1" in html and "Submit claim" in html
    r = client.post(f"/portal/claims/{hit_claim.pk}/submit/")
    assert r.status_code == 302
    assert Claim.objects.get(pk=hit_claim.pk).state == ClaimState.SUBMITTED


def test_portal_shows_the_question_next_to_the_answer_form(client, merchant_user, flow, hit_claim):
    flow.info_requested(hit_claim)
    client.force_login(merchant_user)
    html = client.get(f"/portal/claims/{hit_claim.pk}/").content.decode()
    question = html[html.index('id="actions"') : html.index("Send answer")]
    assert 'id="info-request"' in question and "Send the order export." in question


def test_portal_home_lists_drafts_to_submit(client, merchant, merchant_user, django_assert_max_num_queries):
    incident = IncidentFactory(external_id="P-DRAFT")
    draft = services.file_claim(
        merchant=merchant,
        incident=incident,
        by=merchant_user,
        claimed_amount="80",
        statement="Froze.",
        documents=[SimpleUploadedFile("a.png", PNG)],
    )
    client.force_login(merchant_user)
    client.get("/portal/")
    with django_assert_max_num_queries(9):  # 9th: the merchants without payout details
        html = client.get("/portal/").content.decode()
    assert "Claims waiting for your action" in html and f"/portal/claims/{draft.pk}/" in html


def test_notification_subjects_in_the_readers_language(client, proposed, merchant_user, flow):
    flow.approved(proposed)
    client.force_login(merchant_user)
    en = client.get("/portal/notifications/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    zh = client.get("/portal/notifications/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert f"Claim #{proposed.pk} approved" in en and f"Claim #{proposed.pk} approved" not in zh
    assert f"理赔 #{proposed.pk} 已批准" in zh
    # The stored record stays in the default language (the email is in the recipient's).
    note = ClaimNotification.objects.get(recipient=merchant_user, subject=f"Claim #{proposed.pk} approved")
    # Links open the notification (marking it read), which leads to the claim.
    assert f'href="/portal/notifications/{note.pk}/"' in en
    client.force_login(flow.s2)  # notified of the submission; links go to the console
    staff = client.get("/console/claims/notifications/").content.decode()
    submitted = ClaimNotification.objects.get(recipient=flow.s2, event__action="submit")
    assert f'href="/console/claims/notifications/{submitted.pk}/">Claim #{proposed.pk} submitted by Tea House' in staff
    assert client.get(f"/console/claims/notifications/{submitted.pk}/").url == f"/console/claims/{proposed.pk}/"


def test_incident_over_midnight_shows_the_end_date(client, merchant, merchant_user):
    incident = IncidentFactory(external_id="P-NIGHT")
    start = timezone.localtime(incident.resolved_at).replace(hour=23, minute=30, second=0, microsecond=0)
    incident.started_at = incident.detected_at = start
    incident.resolved_at = start + timedelta(hours=1)
    incident.save()
    claim = services.propose(incident=incident, merchant=merchant, amount="10", currency="CNY")
    client.force_login(merchant_user)
    html = client.get(f"/portal/claims/{claim.pk}/").content.decode()
    end = start + timedelta(days=1)
    assert f"({start.day} {start:%b %Y} 23:30 – {end.day} {end:%b %Y} 00:30)" in html


def test_portal_in_chinese(client, merchant_user, hit_claim):
    client.force_login(merchant_user)
    r = client.get("/portal/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert r.status_code == 200 and 'lang="zh-hans"' in r.content.decode()


def test_portal_refuses_other_merchant_and_staff(client, other_merchant_user, support_user, hit_claim):
    client.force_login(other_merchant_user)
    assert client.get(f"/portal/claims/{hit_claim.pk}/").status_code == 404
    assert client.post(f"/portal/claims/{hit_claim.pk}/submit/").status_code == 404
    client.force_login(support_user)
    assert client.get("/portal/").status_code == 403


def test_portal_wrong_state_action_shows_error(client, merchant_user, hit_claim):
    client.force_login(merchant_user)
    r = client.post(f"/portal/claims/{hit_claim.pk}/accept/", follow=True)
    assert "cannot be accept" in r.content.decode()
    assert Claim.objects.get(pk=hit_claim.pk).state == ClaimState.PROPOSED


def test_portal_file_claim_and_dispute(client, merchant, merchant_user, support_user, support_user_2):
    incident = IncidentFactory(external_id="P-2")
    client.force_login(merchant_user)
    assert client.get(f"/portal/incidents/{incident.pk}/file/").status_code == 200
    r = client.post(
        f"/portal/incidents/{incident.pk}/file/",
        {
            "merchant": merchant.pk,
            "claimed_amount": "300",
            "session_reference": "LS-X",
            "statement": "Froze.",
            "documents": [SimpleUploadedFile("a.png", PNG)],
        },
    )
    claim = Claim.objects.get(incident=incident)
    assert r.status_code == 302 and claim.state == ClaimState.DRAFT
    client.post(f"/portal/claims/{claim.pk}/submit/")
    flow = Flow(merchant_user, support_user, support_user_2)
    services.start_review(claim=Claim.objects.get(pk=claim.pk), by=support_user)
    services.reject(claim=claim, by=support_user, reason="insufficient_evidence", message="Not enough.")
    r = client.post(
        f"/portal/claims/{claim.pk}/dispute/",
        {
            "reason": "decision_disagreement",
            "statement": "See the recording.",
            "documents": [SimpleUploadedFile("b.pdf", b"%PDF-1.4\n%%EOF")],
        },
    )
    claim = Claim.objects.get(pk=claim.pk)
    assert claim.state == ClaimState.DISPUTED and claim.documents.count() == 2
    assert flow  # the flow helper is shared; here the steps are explicit


def test_console_queue_orders_by_due_and_filters(client, support_user, merchant, merchant_user, support_user_2):
    flow = Flow(merchant_user, support_user, support_user_2)
    a = flow.submitted(
        services.propose(incident=IncidentFactory(external_id="Q-1"), merchant=merchant, amount="10", currency="CNY")
    )
    b = flow.under_review(
        services.propose(incident=IncidentFactory(external_id="Q-2"), merchant=merchant, amount="10", currency="CNY")
    )
    Claim.objects.filter(pk=b.pk).update(due_at=a.submitted_at - timedelta(hours=1))  # overdue: the nearest
    c = flow.info_requested(
        services.propose(incident=IncidentFactory(external_id="Q-3"), merchant=merchant, amount="10", currency="CNY")
    )  # waiting for the merchant: no staff deadline, listed last
    client.force_login(support_user)
    html = client.get("/console/claims/").content.decode()
    assert html.index(f"#{b.pk}<") < html.index(f"#{a.pk}<") < html.index(f"#{c.pk}<")
    assert "overdue" in html
    html = client.get("/console/claims/?overdue=1").content.decode()
    assert f"#{b.pk}<" in html and f"#{a.pk}<" not in html
    html = client.get(f"/console/claims/?incident={a.incident_id}").content.decode()
    assert f"#{a.pk}<" in html and f"#{b.pk}<" not in html
    # A partial approval above the computed maximum is flagged for the second approver.
    services.partially_approve(
        claim=b, by=support_user, amount="20", reason="partial_evidence", message="Receipts show more."
    )
    html = client.get("/console/claims/").content.decode()
    row = html[html.index(f"#{b.pk}<") :].split("</tr>")[0]
    assert "second approval needed" in row and "second approval needed" not in html.split(f"#{b.pk}<")[0]


def test_console_detail_decision_forms_and_partial(client, support_user, merchant_user, hit_claim, support_user_2):
    services.submit(claim=hit_claim, by=merchant_user)
    client.force_login(support_user)
    client.post(f"/console/claims/{hit_claim.pk}/start_review/")
    html = client.get(f"/console/claims/{hit_claim.pk}/").content.decode()
    assert 'id="partial-form"' in html and "SLA facts" in html and '<svg class="chart"' in html
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)  # labels point at their own form
    amount = hit_claim.computed_amount - Decimal("1.00")
    r = client.post(
        f"/console/claims/{hit_claim.pk}/partially_approve/",
        {"amount": str(amount), "reason": "baseline_adjusted", "message": "Adjusted baseline."},
    )
    assert r.status_code == 302
    claim = Claim.objects.get(pk=hit_claim.pk)
    assert claim.state == ClaimState.PARTIALLY_APPROVED and claim.approved_amount == amount


def test_console_refuses_merchants_and_own_merchant_staff(client, merchant_user, make_user, merchant, hit_claim):
    client.force_login(merchant_user)
    assert client.get("/console/claims/").status_code == 403
    insider = make_user("ina", "support", merchants=[merchant])
    services.submit(claim=hit_claim, by=merchant_user)
    client.force_login(insider)
    html = client.get(f"/console/claims/{hit_claim.pk}/").content.decode()
    assert "You belong to this merchant" in html and "Take into review" not in html
    client.post(f"/console/claims/{hit_claim.pk}/start_review/")
    assert Claim.objects.get(pk=hit_claim.pk).state == ClaimState.SUBMITTED


def test_console_bulk_approve(client, support_user, merchant, other_merchant):
    incident = IncidentFactory(external_id="B-1")
    small = services.propose(incident=incident, merchant=merchant, amount="20", currency="CNY")
    big = services.propose(incident=incident, merchant=other_merchant, amount="9000", currency="CNY")
    client.force_login(support_user)
    assert "Bulk approval" in client.get(f"/console/claims/?incident={incident.pk}").content.decode()
    r = client.post(
        "/console/claims/bulk-approve/", {"incident": incident.pk, "threshold": "100", "message": ""}, follow=True
    )
    assert Claim.objects.get(pk=small.pk).state == ClaimState.APPROVED
    assert Claim.objects.get(pk=big.pk).state == ClaimState.PROPOSED
    assert [str(m) for m in r.context["messages"]] == ["1 proposed claim approved."]
    r = client.post("/console/claims/bulk-approve/", {"incident": incident.pk, "threshold": "100"}, follow=True)
    assert [str(m) for m in r.context["messages"]] == ["0 proposed claims approved."]
    nothing_proposed = IncidentFactory(external_id="B-2")
    html = client.get(f"/console/claims/?incident={nothing_proposed.pk}").content.decode()
    bulk = html[html.index('id="bulk"') :]  # offered for the incidents that have proposals, not this one
    assert f'<option value="{incident.pk}">' in bulk and f'<option value="{nothing_proposed.pk}">' not in bulk


def test_dashboard_counts_overdue_and_median(client, support_user, merchant, merchant_user, support_user_2):
    flow = Flow(merchant_user, support_user, support_user_2)
    flow.approved(
        services.propose(incident=IncidentFactory(external_id="D-1"), merchant=merchant, amount="10", currency="CNY")
    )
    flow.submitted(
        services.propose(incident=IncidentFactory(external_id="D-2"), merchant=merchant, amount="10", currency="CNY")
    )
    client.force_login(support_user)
    html = client.get("/console/claims/dashboard/").content.decode()
    assert 'id="median">0.0 h' in html
    assert "Approved" in html


def test_median_time_to_decision(support_user, merchant, other_merchant, merchant_user, support_user_2):
    """Median of submission -> first decision over the last 90 days; bulk approvals were never submitted."""
    from claims import selectors

    flow = Flow(merchant_user, support_user, support_user_2)
    now = timezone.now()
    proposals = [
        services.propose(incident=IncidentFactory(external_id=f"M-{i}"), merchant=merchant, amount="10", currency="CNY")
        for i in range(5)
    ]
    decided = [flow.approved(claim) for claim in proposals]
    for claim, hours, ago in zip(decided, [2, 30, 4, 10, 1], [1, 2, 3, 4, 100], strict=True):
        decided_at = now - timedelta(days=ago)
        Claim.objects.filter(pk=claim.pk).update(
            submitted_at=decided_at - timedelta(hours=hours), first_decided_at=decided_at
        )
    bulk = IncidentFactory(external_id="M-BULK")
    services.propose(incident=bulk, merchant=other_merchant, amount="5", currency="CNY")
    assert len(services.bulk_approve(incident=bulk, by=support_user, threshold="100")) == 1

    # 2, 4, 10, 30 hours (the one decided 100 days ago and the bulk approval do not count).
    assert selectors.median_time_to_decision(now=now) == (timedelta(hours=7), 4)
    Claim.objects.filter(pk=decided[3].pk).update(first_decided_at=now - timedelta(days=91))
    assert selectors.median_time_to_decision(now=now) == (timedelta(hours=4), 3)
    assert selectors.dashboard(now=now)["median_hours_to_decision"] == 4.0


def test_median_time_to_decision_leaves_out_the_merchant_wait(support_user, merchant, merchant_user, support_user_2):
    """Submitted, 5 hours waiting for the merchant's answer, decided 10 hours after submission: 5 hours."""
    from claims import selectors

    flow = Flow(merchant_user, support_user, support_user_2)
    claim = flow.info_requested(
        services.propose(incident=IncidentFactory(external_id="MW-1"), merchant=merchant, amount="10", currency="CNY")
    )
    Claim.objects.filter(pk=claim.pk).update(info_requested_at=claim.info_requested_at - timedelta(hours=5))
    claim = services.answer(claim=claim, by=merchant_user, message="Here is the export.")
    claim = services.approve(claim=claim, by=support_user, reason="loss_confirmed", message="Matches the metrics.")
    Claim.objects.filter(pk=claim.pk).update(submitted_at=claim.first_decided_at - timedelta(hours=10))
    wait = Claim.objects.get(pk=claim.pk).merchant_wait
    assert timedelta(hours=5) <= wait < timedelta(hours=5, minutes=1)

    assert selectors.median_time_to_decision(now=timezone.now()) == (timedelta(hours=10) - wait, 1)
    # With a claim decided in 2 hours without waiting, the median is the mean of 2 and 5 hours.
    other = flow.approved(
        services.propose(incident=IncidentFactory(external_id="MW-2"), merchant=merchant, amount="10", currency="CNY")
    )
    Claim.objects.filter(pk=other.pk).update(submitted_at=other.first_decided_at - timedelta(hours=2))
    median, n = selectors.median_time_to_decision(now=timezone.now())
    assert n == 2 and median == (timedelta(hours=12) - wait) / 2
    assert selectors.dashboard()["median_hours_to_decision"] == 3.5


def test_queue_query_count_is_constant(
    client, support_user, merchant, merchant_user, support_user_2, django_assert_max_num_queries
):
    flow = Flow(merchant_user, support_user, support_user_2)
    for i in range(3):
        flow.submitted(
            services.propose(
                incident=IncidentFactory(external_id=f"C-{i}"), merchant=merchant, amount="1", currency="CNY"
            )
        )
    client.force_login(support_user)
    with django_assert_max_num_queries(30) as small:
        client.get("/console/claims/")
    for i in range(3, 20):
        flow.submitted(
            services.propose(
                incident=IncidentFactory(external_id=f"C-{i}"), merchant=merchant, amount="1", currency="CNY"
            )
        )
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get("/console/claims/")


@pytest.mark.parametrize("url", ["/portal/claims/", "/portal/", "/portal/notifications/"])
def test_portal_list_pages_query_count_is_constant(client, merchant, merchant_user, django_assert_max_num_queries, url):
    def add(start, stop):  # hit incidents (assessments), proposals, half of them submitted, notifications
        for i in range(start, stop):
            incident = IncidentFactory(external_id=f"PL-{i}")
            hit_session(incident, merchant, sid=f"LS-PL-{i}")
            sync_incident_claims(incident)
            if i % 2:
                services.submit(claim=Claim.objects.get(incident=incident), by=merchant_user)

    add(0, 2)
    client.force_login(merchant_user)
    client.get(url)
    with django_assert_max_num_queries(30) as small:
        assert client.get(url).status_code == 200
    add(2, 12)
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(url)


def test_timelines_name_the_first_state_without_an_empty_from(
    client, proposed, merchant_user, support_user, support_user_2, flow
):
    """A claim's first event is "Proposed", not "— → Proposed"; a later step still shows from → to.
    The second approver's button names the amount with its currency."""
    claim = flow.submitted(proposed)
    client.force_login(merchant_user)
    html = client.get(reverse("portal:claim", args=[claim.pk])).content.decode()
    assert "— →" not in html and "Proposed → Submitted" in html
    client.force_login(support_user)
    services.start_review(claim=claim, by=support_user)
    services.partially_approve(claim=claim, by=support_user, amount="5000.00", reason="baseline_adjusted", message="x")
    client.force_login(support_user_2)
    html = client.get(reverse("claims_console:claim", args=[claim.pk])).content.decode()
    assert "— →" not in html and "Confirm approval of 5,000.00 CNY" in html
