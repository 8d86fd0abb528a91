"""Test data, in one place: factory_boy factories for the models, and walkers that move a
claim through the real workflow services (a claim in a state is never written directly,
so the audit trail and the checks of the services hold in every test).

Catalogue rows (providers, services, regions, merchants) are get-or-create by their code,
so two factories asking for ``rtc-video`` share one service, as the fixtures always did.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import factory
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from factory.django import DjangoModelFactory

from claims import services as workflow
from incidents.models import Cause, Impact, Incident, IncidentState, Provider, Region, Service
from merchants.models import LiveSession, Merchant, SessionMinute
from sla.models import SLAContract, SLAEvaluation

MIN = timedelta(minutes=1)
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


# --- people ---------------------------------------------------------------------------------


class UserFactory(DjangoModelFactory):
    """``UserFactory(username="ann", roles=["merchant"], merchants=[m])``; the password is ``pw-secret-123``."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user-{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.django.Password("pw-secret-123")

    @factory.post_generation
    def roles(self, create, names, **kwargs):
        for name in names or ():
            # get_or_create: transactional tests flush the groups the migration made.
            self.groups.add(Group.objects.get_or_create(name=name)[0])

    @factory.post_generation
    def merchants(self, create, merchants, **kwargs):
        for merchant in merchants or ():
            self.memberships.create(merchant=merchant)


# --- the incident catalogue and incidents -----------------------------------------------------


class ProviderFactory(DjangoModelFactory):
    class Meta:
        model = Provider
        django_get_or_create = ("name",)

    name = "RTC Co"
    kind = Provider.Kind.RTC


class ServiceFactory(DjangoModelFactory):
    class Meta:
        model = Service
        django_get_or_create = ("code",)

    provider = factory.SubFactory(ProviderFactory)
    code = "rtc-video"
    name = "RTC video"


class RegionFactory(DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = "cn-east"
    name = "East China"


class IncidentFactory(DjangoModelFactory):
    """A resolved major provider outage of ``rtc-video`` in ``cn-east``, 45 minutes long, resolved a day ago.

    ``minutes`` sets the length, ``resolved_ago`` how long ago it ended (or give ``started_at``);
    ``regions`` takes region codes (``[]`` for none).
    """

    class Meta:
        model = Incident
        skip_postgeneration_save = True

    class Params:
        minutes = 45
        resolved_ago = timedelta(days=1)

    source = "test"
    external_id = factory.Sequence(lambda n: f"INC-{n + 1}")
    title = factory.LazyAttribute(lambda o: f"Video outage {o.external_id}")
    service = factory.SubFactory(ServiceFactory)
    impact = Impact.MAJOR_OUTAGE
    cause = Cause.PROVIDER
    state = IncidentState.RESOLVED
    started_at = factory.LazyAttribute(lambda o: timezone.now() - o.resolved_ago - o.minutes * MIN)
    detected_at = factory.LazyAttribute(lambda o: o.started_at + 2 * MIN)
    resolved_at = factory.LazyAttribute(
        lambda o: o.started_at + o.minutes * MIN if o.state == IncidentState.RESOLVED else None
    )

    @factory.post_generation
    def regions(self, create, codes, **kwargs):
        self.regions.set([RegionFactory(code=code) for code in (("cn-east",) if codes is None else codes)])


# --- merchants and their live sessions ----------------------------------------------------------


class MerchantFactory(DjangoModelFactory):
    class Meta:
        model = Merchant
        django_get_or_create = ("code",)

    code = "tea"
    name = factory.LazyAttribute(lambda o: o.code.upper())
    currency = "CNY"
    # A merchant whose claims finance can pay (a batch with a merchant lacking them cannot be locked).
    payout_account_name = factory.LazyAttribute(lambda o: o.name)
    payout_bank = "Bank of Examples"
    payout_account_number = factory.Sequence(lambda n: f"6222{n:012d}")


class LiveSessionFactory(DjangoModelFactory):
    class Meta:
        model = LiveSession

    merchant = factory.SubFactory(MerchantFactory)
    external_id = factory.Sequence(lambda n: f"LS-{n + 1}")
    service_code = "rtc-video"
    region_code = "cn-east"
    started_at = datetime(2026, 11, 2, 11, 0, tzinfo=UTC)
    ended_at = factory.LazyAttribute(lambda o: o.started_at + 120 * MIN)


def session_minutes(session, start, minutes, gmv, ad_spend="0", *, skip=(), viewers=100, orders=1):
    """``minutes`` rows of metrics from ``start``; ``gmv``/``ad_spend`` a value or a function of the index."""
    rows = [
        SessionMinute(
            session=session,
            minute=start + i * MIN,
            viewers=viewers,
            orders=orders,
            gmv=Decimal(gmv(i) if callable(gmv) else gmv),
            ad_spend=Decimal(ad_spend(i) if callable(ad_spend) else ad_spend),
        )
        for i in range(minutes)
        if i not in skip
    ]
    return SessionMinute.objects.bulk_create(rows)


def merchants_hit(incident, count):
    """``count`` merchants, each with one member and a live session the incident hit (the surge tests)."""
    from django.contrib.auth.models import User

    from merchants.models import Membership

    merchants = Merchant.objects.bulk_create(
        [
            Merchant(
                code=f"s{i:04d}",
                name=f"Shop {i}",
                currency="CNY",
                payout_account_name=f"Shop {i}",
                payout_bank="Bank of Examples",
                payout_account_number=f"6222{i:012d}",
            )
            for i in range(count)
        ]
    )
    users = User.objects.bulk_create([User(username=f"shop{i}", email=f"shop{i}@example.com") for i in range(count)])
    Membership.objects.bulk_create([Membership(user=u, merchant=m) for u, m in zip(users, merchants, strict=True)])
    for i, merchant in enumerate(merchants):
        hit_session(incident, merchant, sid=f"LS-{i}")
    return merchants


def hit_session(incident, merchant, sid="LS-1", before="100", during="20"):
    """A live session of ``merchant`` on the incident's service and region, selling less during it."""
    start = incident.started_at.replace(second=0, microsecond=0) - 60 * MIN
    end = (incident.resolved_at or incident.started_at).replace(second=0, microsecond=0) + 40 * MIN
    session = LiveSessionFactory(
        merchant=merchant,
        external_id=sid,
        service_code=incident.service.code,
        region_code=incident.regions.first().code,
        started_at=start,
        ended_at=end,
    )
    stop = incident.resolved_at or end
    session_minutes(
        session,
        start,
        int((end - start) / MIN),
        lambda i: during if incident.started_at <= start + i * MIN < stop else before,
        viewers=50,
    )
    return session


# --- SLA contracts ----------------------------------------------------------------------------


class SLAContractFactory(DjangoModelFactory):
    """RTC-2026: 200,000 CNY a month, 99.95 % target, three credit tiers, 90-minute recovery target.

    ``services`` takes service codes (default ``rtc-video`` and ``rtc-audio`` where they exist).
    """

    class Meta:
        model = SLAContract
        skip_postgeneration_save = True

    code = "RTC-2026"
    version = 1
    provider = factory.SubFactory(ProviderFactory)
    currency = "CNY"
    monthly_fee = Decimal("200000.00")
    effective_from = date(2026, 1, 1)
    availability_target = Decimal("99.95")
    partial_outage_weight = Decimal("0.5")
    degraded_weight = Decimal("0")
    maintenance_notice_hours = 48
    credit_tiers = factory.LazyFunction(
        lambda: [
            {"below": "99.95", "credit_percent": "10"},
            {"below": "99.0", "credit_percent": "25"},
            {"below": "95.0", "credit_percent": "100"},
        ]
    )
    recovery_targets = factory.LazyFunction(
        lambda: [{"impact": "major_outage", "max_minutes": 90, "credit_percent": "5"}]
    )
    first_response_minutes = 15
    claim_window_days = 30

    @factory.post_generation
    def services(self, create, codes, **kwargs):
        self.services.set(Service.objects.filter(code__in=codes or ("rtc-video", "rtc-audio")))


class SLAEvaluationFactory(DjangoModelFactory):
    """A finalized month of ``contract`` that missed its target by 40 minutes (10 % credit)."""

    class Meta:
        model = SLAEvaluation

    contract = factory.SubFactory(SLAContractFactory)
    contract_code = factory.LazyAttribute(lambda o: o.contract.code)
    period = date(2026, 11, 1)
    evaluated_at = datetime(2026, 12, 1, tzinfo=UTC)
    eligible_minutes = Decimal("43200")
    excluded_minutes = Decimal("0")
    downtime_minutes = Decimal("40")
    availability_percent = Decimal("99.9074")
    availability_target = Decimal("99.9500")
    tier_credit_percent = Decimal("10")
    credit_percent = Decimal("10")
    credit_amount = Decimal("10000.00")
    currency = "CNY"
    claim_deadline = date(2026, 12, 31)


# --- claims, walked through the workflow services ---------------------------------------------


def png_upload(name="screenshot.png"):
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def pdf_upload(name="statement.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def proposed_claim(*, incident=None, merchant=None, amount="1200.00"):
    """A claim as the loss engine proposes it (``claims.services.propose``)."""
    incident = incident or IncidentFactory()
    merchant = merchant or MerchantFactory()
    return workflow.propose(incident=incident, merchant=merchant, amount=Decimal(amount), currency=merchant.currency)


class Flow:
    """Walks a claim to a state through the real services: ``flow.accepted(claim)``."""

    def __init__(self, merchant_user, staff, staff_2):
        self.m, self.s, self.s2 = merchant_user, staff, staff_2

    def submitted(self, claim):
        return workflow.submit(claim=claim, by=self.m)

    def under_review(self, claim):
        return workflow.start_review(claim=self.submitted(claim), by=self.s)

    def info_requested(self, claim):
        return workflow.request_info(
            claim=self.under_review(claim), by=self.s, reason="missing_information", message="Send the order export."
        )

    def approved(self, claim, message="Matches the metrics."):
        return workflow.approve(claim=self.under_review(claim), by=self.s, reason="loss_confirmed", message=message)

    def partially_approved(self, claim, amount="800.00"):
        return workflow.partially_approve(
            claim=self.under_review(claim), by=self.s, amount=amount, reason="baseline_adjusted", message="Adjusted."
        )

    def rejected(self, claim):
        return workflow.reject(
            claim=self.under_review(claim), by=self.s, reason="not_platform_caused", message="Your encoder failed."
        )

    def accepted(self, claim, *, message="Matches the metrics."):
        return workflow.accept(claim=self.approved(claim, message), by=self.m)

    def disputed(self, claim):
        return workflow.dispute(
            claim=self.partially_approved(claim),
            by=self.m,
            reason="amount_disagreement",
            statement="Sales were higher.",
        )

    def settled(self, claim, finance):
        return workflow.settle(claim=self.accepted(claim), by=finance, payment_reference="PAY-0001")


class Claims:
    """Claims of several merchants in a given state, each merchant with its own user (finance tests)."""

    def __init__(self, make_user=None):  # make_user: accepted for the tests written before the factories
        self.support = UserFactory(username="sam-support", roles=["support"])
        self.support2 = UserFactory(username="sue-support", roles=["support"])
        self._users = {}

    def merchant(self, code="tea", name="茶馆 Tea House", currency="CNY"):
        merchant = MerchantFactory(code=code, name=name, currency=currency)
        if code not in self._users:
            self._users[code] = UserFactory(username=f"m-{code}", roles=["merchant"], merchants=[merchant])
        return merchant

    def user_of(self, merchant):
        return self._users[merchant.code]

    def flow(self, merchant):
        return Flow(self.user_of(merchant), self.support, self.support2)

    @staticmethod
    def incident(start=datetime(2026, 11, 2, 4, 0, tzinfo=UTC), minutes=40, **kwargs):
        """The bilingual outage the statements print (12:00 in Shanghai, 40 minutes)."""
        kwargs.setdefault("service", ServiceFactory(name="RTC video 实时视频"))
        return IncidentFactory(title="视频推流中断 Video ingest outage", started_at=start, minutes=minutes, **kwargs)

    def proposed(self, amount="1200.00", merchant=None, incident=None):
        merchant = merchant or self.merchant()
        return proposed_claim(incident=incident or self.incident(), merchant=merchant, amount=amount)

    def approved(self, amount="1200.00", merchant=None, incident=None):
        claim = self.proposed(amount, merchant, incident)
        return self.flow(claim.merchant).approved(claim, "与指标一致 Matches the metrics.")

    def accepted(self, amount="1200.00", merchant=None, incident=None):
        claim = self.approved(amount, merchant, incident)
        return workflow.accept(claim=claim, by=self.user_of(claim.merchant), message="OK")
