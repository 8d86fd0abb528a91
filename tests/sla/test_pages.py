"""Staff pages under /console/sla/."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from sla import services
from sla.models import ProviderCreditClaim

pytestmark = pytest.mark.django_db


def test_merchant_is_refused(client, make_user, evaluated):
    client.force_login(make_user("mia", "merchant"))
    assert client.get(reverse("sla:index")).status_code == 403
    assert client.get(reverse("sla:evaluation", args=[evaluated.pk])).status_code == 403


def test_provider_dashboard_chart_and_figures(client, support_user, evaluated):
    client.force_login(support_user)
    index = client.get(reverse("sla:index")).content.decode()
    assert "Acme RTC" in index and "20,000.00 CNY" in index
    html = client.get(reverse("sla:provider", args=[evaluated.contract.provider_id])).content.decode()
    assert "<svg" in html and 'class="target"' in html
    assert html.count('<path class="below"') == 1  # October is below 99.95 (a cross, not only a colour)
    assert html.count('<circle class="ok"') == 1  # September is not
    assert "2026-10: 99.8652 % (below target)" in html  # the chart's text alternative
    assert "20,000.00 CNY" in html


def test_deadline_warning_on_dashboard(client, finance_user, evaluated):
    claim = ProviderCreditClaim.objects.get()
    claim.claim_deadline = date.today() + timedelta(days=3)
    claim.save()
    client.force_login(finance_user)
    html = client.get(reverse("sla:index")).content.decode()
    assert "Credit claims to file now" in html and "in 3 days, not filed" in html
    services.file_claim(claim=claim, by=finance_user, reference="ACME-T-4", amount_claimed=claim.amount_claimed)
    assert "Credit claims to file now" not in client.get(reverse("sla:index")).content.decode()


def test_evaluation_detail_lists_what_produced_each_figure(client, support_user, evaluated):
    client.force_login(support_user)
    html = client.get(reverse("sla:evaluation", args=[evaluated.pk])).content.decode()
    assert "ACME-OCT-1" in html
    assert "late: excludes nothing" in html
    assert "120.00" in html  # excluded minutes of the window announced in time
    assert "99.8652 %" in html  # (44640 - 120 - 60) / (44640 - 120)


def test_evaluation_detail_shows_readable_times_in_the_contract_time_zone(client, support_user, evaluated):
    client.force_login(support_user)
    html = client.get(reverse("sla:evaluation", args=[evaluated.pk])).content.decode()
    assert "2026-10-01 00:00 – 2026-11-01 00:00 (Asia/Shanghai)" in html
    incidents = html.split('id="incidents"', 1)[1].split("</table>", 1)[0]
    assert "2026-10-02 10:00" in incidents and "2026-10-02 11:00" in incidents
    maintenance = html.split('id="maintenance"', 1)[1].split("</table>", 1)[0]
    assert "2026-10-05 02:00 – 2026-10-05 04:00" in maintenance and "2026-09-01 00:00" in maintenance
    assert "+08:00" not in incidents + maintenance and "T10:00" not in incidents


def test_provider_dashboard_runs_a_constant_number_of_queries(
    client, support_user, make_contract, make_incident, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from .conftest import sh

    client.force_login(support_user)
    contract = make_contract()
    make_incident(sh(2026, 10, 2, 10), sh(2026, 10, 2, 11))
    services.recompute(pairs=[("RTC-2026", "2026-10")], now=sh(2026, 12, 5))
    url = reverse("sla:provider", args=[contract.provider_id])
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for code in ("RTC-B", "RTC-C"):
        make_contract(code=code)
    for month in range(1, 13):
        make_incident(sh(2026, month, 3, 10), sh(2026, month, 3, 11))
    services.recompute(
        pairs=[(c, f"2026-{m:02d}") for c in ("RTC-2026", "RTC-B", "RTC-C") for m in range(1, 13)], now=sh(2027, 1, 5)
    )
    with django_assert_max_num_queries(len(few)) as many:
        html = client.get(url).content.decode()
    assert html.count("<polyline") == 3 and html.count('class="claim-actions-row"') == 0
    assert not any('"details"' in q["sql"] for q in many.captured_queries)


def test_provider_dashboard_in_chinese_groups_amounts_and_uses_full_width_punctuation(client, finance_user, evaluated):
    import re

    from django.conf import settings

    claim = ProviderCreditClaim.objects.get()
    claim.claim_deadline = date.today() - timedelta(days=1)  # overdue: the warning links its evaluation
    claim.save()
    client.force_login(finance_user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    html = client.get(reverse("sla:provider", args=[evaluated.contract.provider_id])).content.decode()
    table = html[html.index('id="credit-claims"') :].split("</section>")[0]
    assert "20,000.00 CNY" in table and ">20000.00" not in table
    warnings = client.get(reverse("sla:index")).content.decode()
    warning = warnings[warnings.index('class="warning-claim"') :].split("</li>")[0]
    assert "已过截止日期" in warning and "（<a " in warning and "</a>）" in warning
    text = re.sub(r"<[^>]+>", "", html)
    assert not re.search(r"[\u4e00-\u9fff], ", text)  # "3 次恢复超时，2 次响应超时", not ", "
