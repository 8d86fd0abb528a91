"""axe-core (WCAG 2.1 A and AA rules) on every page of every role, in English and Chinese, on the
demo data: any violation fails, listed with its rule, page and the elements concerned."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command
from django.urls import reverse

from accounts.demo import PASSWORD
from tests.layout import open_as

# Two forms on a page with the same auto_id make a label focus the other form's field.
DUPLICATE_IDS_JS = """() => {
  const seen = new Map();
  for (const el of document.querySelectorAll("[id]")) seen.set(el.id, (seen.get(el.id) || 0) + 1);
  return [...seen].filter(([, n]) => n > 1).map(([id]) => id);
}"""
# Only violations come back in full: the passes' node lists are most of axe's answer and its time.
WCAG_21_AA = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}


def merchant_pages():
    from claims.models import Claim
    from merchants.models import Merchant

    merchant = Merchant.objects.get(memberships__user__username="teahouse")
    claims = Claim.objects.filter(merchant=merchant)
    pages = [
        reverse("portal:home"),
        reverse("portal:claims"),
        reverse("portal:notifications"),
        reverse("portal:payout"),
    ]
    seen = set()
    for claim in claims.order_by("pk"):
        if claim.state not in seen:
            seen.add(claim.state)
            pages.append(reverse("portal:claim", args=[claim.pk]))
    incident = merchant.loss_assessments.filter(is_current=True).first().incident
    pages.append(reverse("portal:file", args=[incident.pk]))
    return pages


def support_pages():
    from claims.models import Claim
    from incidents.models import Incident

    pages = [
        reverse("claims_console:queue"),
        reverse("claims_console:dashboard"),
        reverse("claims_console:notifications"),
        reverse("incidents:list"),
        reverse("incidents:create"),
    ]
    seen = set()
    for claim in Claim.objects.order_by("pk"):
        if claim.state not in seen:
            seen.add(claim.state)
            pages.append(reverse("claims_console:claim", args=[claim.pk]))
    for state in ("resolved", "mitigated", "acknowledged", "detected"):
        incident = Incident.objects.filter(state=state).first()
        if incident:
            pages.append(reverse("incidents:detail", args=[incident.pk]))
            pages.append(reverse("incidents:edit", args=[incident.pk]))
    return pages


def finance_pages():
    from settlements.models import SettlementBatch
    from sla.models import ProviderCreditClaim, SLAEvaluation

    pages = [
        reverse("finance:home"),
        reverse("finance:ledger"),
        reverse("finance:recovery"),
        reverse("finance:documents"),
        reverse("sla:index"),
    ]
    pages += [reverse("finance:batch", args=[b.pk]) for b in SettlementBatch.objects.order_by("pk")]
    evaluation = SLAEvaluation.objects.filter(is_current=True).order_by("-period").first()
    pages.append(reverse("sla:evaluation", args=[evaluation.pk]))
    pages.append(reverse("sla:provider", args=[evaluation.contract.provider_id]))
    credit = ProviderCreditClaim.objects.order_by("pk").first()
    if credit:
        pages.append(reverse("sla:claim", args=[credit.pk]))
    return pages


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_no_wcag_violations_on_any_page(browser, live_server, settings, tmp_path, lang):
    from django.contrib.auth.models import Group

    from accounts.roles import ALL_ROLES
    from config.celery import app

    settings.MEDIA_ROOT = tmp_path
    for name in ALL_ROLES:  # made by a data migration, which a transactional test's flush removes
        Group.objects.get_or_create(name=name)
    old = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    finally:
        app.conf.task_always_eager = old
    axe = Axe()
    roles = {"teahouse": merchant_pages(), "support": support_pages(), "finance": finance_pages()}
    found, checked = [], 0
    for username, urls in [(None, [reverse("login")]), *roles.items()]:
        context, page = open_as(browser, live_server, username, lang=lang, password=PASSWORD)
        for url in urls:
            page.goto(live_server.url + url)
            results = axe.run(page, options=WCAG_21_AA)
            checked += 1
            for duplicate in page.evaluate(DUPLICATE_IDS_JS):
                found.append(f"{lang} {username} {url}: duplicate id {duplicate}")
            for violation in results.response["violations"]:
                targets = [", ".join(n["target"]) for n in violation["nodes"][:3]]
                found.append(f"{lang} {username} {url}: {violation['id']} ({violation['impact']}) {targets}")
        context.close()
    assert checked >= 20
    assert not found, "\n".join(found)
