"""Each decision offers its own reasons (approve, partial approval, reject, information request), in
the reader's language, and the form, the API and the service each refuse another decision's reason."""

import re

import pytest
from django.urls import reverse

from claims import services
from claims.models import (
    APPROVE_REASONS,
    INFO_REQUEST_REASONS,
    PARTIAL_APPROVAL_REASONS,
    REJECT_REASONS,
    Claim,
    ClaimState,
)
from core.errors import InvalidInput
from tests.layout import assert_no_overlap, open_as

FORMS = {
    "approve-form": APPROVE_REASONS,
    "partial-form": PARTIAL_APPROVAL_REASONS,
    "reject-form": REJECT_REASONS,
    "info-form": INFO_REQUEST_REASONS,
}


def options(html, form_id):
    form = re.search(rf'<form[^>]*id="{form_id}".*?</form>', html, re.S).group(0)
    select = re.search(r'<select name="reason".*?</select>', form, re.S).group(0)
    return [v for v in re.findall(r'<option value="([^"]*)"', select) if v]


@pytest.mark.django_db
def test_each_decision_offers_its_own_reasons(client, proposed, flow):
    claim = flow.under_review(proposed)
    client.force_login(flow.s)
    html = client.get(reverse("claims_console:claim", args=[claim.pk])).content.decode()
    lists = {form_id: options(html, form_id) for form_id in FORMS}
    assert lists == {form_id: [c.value for c in codes] for form_id, codes in FORMS.items()}
    assert lists["approve-form"] != lists["reject-form"] != lists["partial-form"]
    assert "not_platform_caused" not in lists["partial-form"] and "loss_confirmed" not in lists["reject-form"]


@pytest.mark.django_db
def test_the_reasons_are_translated(client, proposed, flow):
    claim = flow.under_review(proposed)
    client.force_login(flow.s)
    client.cookies["django_language"] = "zh-hans"
    html = client.get(reverse("claims_console:claim", args=[claim.pk])).content.decode()
    assert '<option value="not_platform_caused">Loss not caused by the platform</option>' not in html
    assert re.search(r'<option value="not_platform_caused">[^<]*[\u4e00-\u9fff][^<]*</option>', html)


@pytest.mark.django_db
def test_a_reject_reason_on_a_partial_approval_is_refused_on_the_reason_field(client, api_client, proposed, flow):
    claim = flow.under_review(proposed)
    client.force_login(flow.s)
    url = reverse("claims_console:action", args=[claim.pk, "partially_approve"])
    r = client.post(url, {"amount": "500.00", "reason": "not_platform_caused", "message": "x"})
    assert r.status_code == 400
    html = r.content.decode()
    assert 'href="#id_partially_approve_reason"' in html
    assert Claim.objects.get(pk=claim.pk).state == ClaimState.UNDER_REVIEW

    api_client.force_authenticate(flow.s)
    r = api_client.post(
        f"/api/claims/claims/{claim.pk}/partially-approve/",
        {"amount": "500.00", "reason": "not_platform_caused", "message": "x"},
        format="json",
    )
    assert r.status_code == 400 and "reason" in r.json()
    body = {"reason": "loss_confirmed", "message": "x"}
    r = api_client.post(f"/api/claims/claims/{claim.pk}/reject/", body, format="json")
    assert r.status_code == 400 and "reason" in r.json()
    assert Claim.objects.get(pk=claim.pk).state == ClaimState.UNDER_REVIEW


@pytest.mark.django_db
def test_the_service_refuses_another_decisions_reason(proposed, flow):
    claim = flow.under_review(proposed)
    for call in (
        lambda: services.partially_approve(claim=claim, by=flow.s, amount="5", reason="duplicate", message="x"),
        lambda: services.reject(claim=claim, by=flow.s, reason="baseline_adjusted", message="x"),
        lambda: services.approve(claim=claim, by=flow.s, reason="not_platform_caused", message="x"),
        lambda: services.request_info(claim=claim, by=flow.s, reason="loss_confirmed", message="x"),
    ):
        with pytest.raises(InvalidInput) as refused:
            call()
        assert (refused.value.code, refused.value.field) == ("bad_reason", "reason")
    assert Claim.objects.get(pk=claim.pk).state == ClaimState.UNDER_REVIEW
    # A partial approval of all that was asked is recorded as an approval, with its partial reason.
    claim = services.partially_approve(
        claim=claim, by=flow.s, amount=claim.computed_amount, reason="baseline_adjusted", message="Whole."
    )
    assert (claim.state, claim.decision_reason) == (ClaimState.APPROVED, "baseline_adjusted")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("width", "lang"), [(1366, "en"), (375, "en"), (1366, "zh-hans"), (375, "zh-hans")])
def test_the_decision_forms_with_their_own_lists(browser, live_server, screenshot, proposed, flow, width, lang):
    claim = flow.under_review(proposed)
    context, page = open_as(browser, live_server, flow.s.username, width=width, lang=lang)
    page.goto(f"{live_server.url}/console/claims/{claim.pk}/")
    for form_id, codes in FORMS.items():
        values = page.locator(f"#{form_id} select[name=reason] option").evaluate_all("os => os.map(o => o.value)")
        assert [v for v in values if v] == [c.value for c in codes]
    assert_no_overlap(page)
    screenshot(page, f"decision-reasons-{width}-{lang}")
    context.close()
