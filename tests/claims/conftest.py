"""Fixtures of the claim workflow tests: a resolved incident, merchants, users, claims in any state."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from claims import services
from incidents.models import Cause, Impact, Incident, IncidentState, Provider, Region, Service
from merchants.models import Merchant

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def png_upload(name="screenshot.png"):
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def pdf_upload(name="statement.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def make_incident(external_id="INC-1", resolved_ago=timedelta(days=1), duration=timedelta(minutes=45)):
    provider, _ = Provider.objects.get_or_create(name="RTC Co", defaults={"kind": Provider.Kind.RTC})
    service, _ = Service.objects.get_or_create(code="rtc-video", defaults={"provider": provider, "name": "RTC video"})
    region, _ = Region.objects.get_or_create(code="cn-east", defaults={"name": "East China"})
    resolved = timezone.now() - resolved_ago
    incident = Incident.objects.create(
        source="test",
        external_id=external_id,
        title=f"Video outage {external_id}",
        service=service,
        impact=Impact.MAJOR_OUTAGE,
        cause=Cause.PROVIDER,
        state=IncidentState.RESOLVED,
        started_at=resolved - duration,
        detected_at=resolved - duration + timedelta(minutes=2),
        resolved_at=resolved,
    )
    incident.regions.add(region)
    return incident


@pytest.fixture(autouse=True)
def role_groups(db):
    """The role groups come from a data migration; a transactional test's flush removes them."""
    from django.contrib.auth.models import Group

    from accounts.roles import ALL_ROLES

    for name in ALL_ROLES:
        Group.objects.get_or_create(name=name)


@pytest.fixture
def incident(db):
    return make_incident()


@pytest.fixture
def merchant(db):
    return Merchant.objects.create(code="tea", name="Tea House", currency="CNY")


@pytest.fixture
def other_merchant(db):
    return Merchant.objects.create(code="silk", name="Silk Road", currency="CNY")


@pytest.fixture
def merchant_user(make_user, merchant):
    return make_user("mia-merchant", "merchant", merchants=[merchant])


@pytest.fixture
def other_merchant_user(make_user, other_merchant):
    return make_user("otto-merchant", "merchant", merchants=[other_merchant])


@pytest.fixture
def support_user_3(make_user):
    return make_user("sid-support", "support")


@pytest.fixture
def proposed(incident, merchant, merchant_user):
    return services.propose(incident=incident, merchant=merchant, amount=Decimal("1200.00"), currency="CNY")


class Flow:
    """Walks a claim to a state through the real services."""

    def __init__(self, merchant_user, staff, staff_2):
        self.m, self.s, self.s2 = merchant_user, staff, staff_2

    def submitted(self, claim):
        return services.submit(claim, self.m)

    def under_review(self, claim):
        return services.start_review(self.submitted(claim), self.s)

    def info_requested(self, claim):
        return services.request_info(self.under_review(claim), self.s, "missing_information", "Send the order export.")

    def approved(self, claim):
        return services.approve(self.under_review(claim), self.s, "loss_confirmed", "Matches the metrics.")

    def partially_approved(self, claim, amount="800.00"):
        return services.partially_approve(self.under_review(claim), self.s, amount, "baseline_adjusted", "Adjusted.")

    def rejected(self, claim):
        return services.reject(self.under_review(claim), self.s, "not_platform_caused", "Your encoder failed.")

    def accepted(self, claim):
        return services.accept(self.approved(claim), self.m)

    def disputed(self, claim):
        return services.dispute(self.partially_approved(claim), self.m, "amount_disagreement", "Sales were higher.")

    def settled(self, claim, finance):
        return services.settle(self.accepted(claim), finance, "PAY-0001")


@pytest.fixture
def flow(merchant_user, support_user, support_user_2):
    return Flow(merchant_user, support_user, support_user_2)


def hit(incident, merchant, sid="LS-1", before="100", during="20"):
    """A live session of ``merchant`` on the incident's service and region, selling less during it."""
    from merchants.models import LiveSession, SessionMinute

    minute = timedelta(minutes=1)
    start = incident.started_at.replace(second=0, microsecond=0) - 60 * minute
    end = (incident.resolved_at or incident.started_at).replace(second=0, microsecond=0) + 40 * minute
    session = LiveSession.objects.create(
        merchant=merchant,
        external_id=sid,
        service_code=incident.service.code,
        region_code=incident.regions.first().code,
        started_at=start,
        ended_at=end,
    )
    rows, at = [], start
    while at < end:
        during_incident = incident.started_at <= at < (incident.resolved_at or end)
        rows.append(
            SessionMinute(
                session=session, minute=at, viewers=50, orders=1, gmv=Decimal(during if during_incident else before)
            )
        )
        at += minute
    SessionMinute.objects.bulk_create(rows)
    return session
