"""Pages in zh-hans show translated labels, not the raw codes stored in the audit trails."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from claims import services as claim_services
from incidents import services as incident_services
from incidents.models import Cause, Impact, Incident, IncidentState, Provider, Region, Service
from merchants.models import Merchant

pytestmark = pytest.mark.django_db


def _timeline(html: str) -> str:
    match = re.search(r'<ol class="timeline"[^>]*>(.*?)</ol>', html, re.S)
    assert match, "no timeline on the page"
    return match.group(1)


@pytest.fixture
def incident(support_user):
    provider = Provider.objects.create(name="RTC Co", kind=Provider.Kind.RTC)
    service = Service.objects.create(code="rtc-video", provider=provider, name="RTC video")
    region = Region.objects.create(code="cn-east", name="East China")
    start = timezone.now() - timedelta(hours=3)
    incident = Incident.objects.create(
        source="test",
        external_id="I18N-1",
        title="Video outage",
        service=service,
        impact=Impact.MAJOR_OUTAGE,
        cause=Cause.PROVIDER,
        state=IncidentState.DETECTED,
        started_at=start,
        detected_at=start + timedelta(minutes=2),
    )
    incident.regions.add(region)
    for action, minutes in (("acknowledge", 5), ("mitigate", 30), ("resolve", 45)):
        incident = incident_services.transition_incident(
            incident=incident, action=action, actor=support_user, message="note", at=start + timedelta(minutes=minutes)
        )
    return incident


def test_claim_and_incident_pages_show_chinese_state_labels(client, make_user, support_user, incident):
    merchant = Merchant.objects.create(code="tea", name="Tea House", currency="CNY")
    merchant_user = make_user("mia-merchant", "merchant", merchants=[merchant])
    claim = claim_services.propose(incident=incident, merchant=merchant, amount=Decimal("1200.00"), currency="CNY")
    claim = claim_services.submit(claim=claim, by=merchant_user)
    claim = claim_services.start_review(claim=claim, by=support_user)

    client.force_login(merchant_user)
    html = client.get(reverse("portal:claim", args=[claim.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    timeline = _timeline(html)
    assert "系统建议 → 已提交" in timeline and "已提交 → 审核中" in timeline
    assert "（商家）" in timeline and "（客服）" in timeline  # full-width in Chinese
    for code in ("proposed", "submitted", "under_review", "(merchant)", "(support)"):
        assert code not in timeline

    client.force_login(support_user)
    html = client.get(reverse("incidents:detail", args=[incident.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    timeline = _timeline(html)
    assert "已发现 → 已确认" in timeline and "已确认 → 已缓解" in timeline and "已缓解 → 已解决" in timeline
    for code in ("detected", "acknowledged", "mitigated", "resolved"):
        assert code not in timeline
    assert "发现时间" in html and "解决时间" in html
    assert "■</span> 开始" in html and "■</span> 已发现" in html and "■</span> detected" not in html
