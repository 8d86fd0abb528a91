"""Demo claims in every workflow state, built through the real services (deterministic, idempotent).

For each scenario a demo live session (``DEMO-CLAIM-…``) of one demo merchant is placed on a
resolved demo incident, with per-minute sales that drop during the outage; the loss engine then
assesses it and the workflow proposes the claim, which is walked to its target state by the
demo users (merchant users, ``support``, ``support2``, ``finance``). The demo incidents have
fixed dates, so the filing window is widened while seeding.
"""

from contextlib import nullcontext
from datetime import timedelta
from decimal import Decimal
from unittest import mock

from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.utils import override_settings
from django.utils import timezone

from claims import services
from claims.models import Claim, ClaimState
from claims.recompute import sync_incident_claims
from incidents.models import Cause, Incident, IncidentState
from merchants.models import LiveSession, Merchant, SessionMinute

S = ClaimState
MERCHANTS = ["tea-house", "silk-road", "glow-beauty", "snack-king"]
# (target state, merchant) in a fixed order; each gets its own incident.
SCENARIOS = [
    (S.PROPOSED, "tea-house"),
    (S.PROPOSED, "silk-road"),
    (S.DRAFT, "tea-house"),
    (S.SUBMITTED, "glow-beauty"),
    ("overdue", "snack-king"),
    (S.UNDER_REVIEW, "silk-road"),
    ("pending_second_approval", "glow-beauty"),
    (S.INFO_REQUESTED, "tea-house"),
    (S.APPROVED, "snack-king"),
    (S.PARTIALLY_APPROVED, "tea-house"),
    (S.REJECTED, "silk-road"),
    (S.ACCEPTED, "glow-beauty"),
    (S.DISPUTED, "tea-house"),
    ("final_decision", "silk-road"),
    (S.SETTLED, "snack-king"),
    (S.WITHDRAWN, "glow-beauty"),
    (S.EXPIRED, "snack-king"),
]
OVERDUE_BY = timedelta(hours=26)  # the overdue claim's submission, before its 24-hour first response
CSV_EVIDENCE = b"minute,orders,gmv\n20:01,12,1380.00\n20:02,0,0.00\n20:03,0,0.00\n"


def _user(merchant_code):
    return User.objects.get(username=merchant_code.replace("-", ""))


def _session(incident, merchant, n):
    """A session spanning the outage: steady sales before and after, a drop during it."""
    sid = f"DEMO-CLAIM-{incident.external_id}-{merchant.code}"
    session = LiveSession.objects.filter(external_id=sid).first()
    if session is not None:
        return session
    minute = timedelta(minutes=1)
    start = incident.started_at.replace(second=0, microsecond=0) - 60 * minute
    end = incident.resolved_at.replace(second=0, microsecond=0) + 40 * minute
    session = LiveSession.objects.create(
        merchant=merchant,
        external_id=sid,
        service_code=incident.service.code,
        region_code=incident.regions.order_by("code").first().code,
        started_at=start,
        ended_at=end,
    )
    base = Decimal(60 + 13 * n)
    rows, at, i = [], start, 0
    while at < end:
        during = incident.started_at <= at < incident.resolved_at
        gmv = (base * Decimal("0.15") if during else base + (i % 7)).quantize(Decimal("0.01"))
        rows.append(SessionMinute(session=session, minute=at, viewers=300 + i % 50, orders=2, gmv=gmv))
        at += minute
        i += 1
    SessionMinute.objects.bulk_create(rows)
    return session


def _incidents():
    return list(
        Incident.objects.filter(state=IncidentState.RESOLVED, cause__in=[Cause.PROVIDER, Cause.PLATFORM])
        .exclude(claims__isnull=False)
        .order_by("started_at", "id")
    )


def seed(stdout):
    if Claim.objects.exclude(state=S.PROPOSED).exists():
        # Already seeded: what was done in the demo since stays as it is.
        stdout.write(f"  claims: {Claim.objects.count()} claims kept as they are")
        return
    support, support2, finance = (User.objects.get(username=u) for u in ("support", "support2", "finance"))
    merchants = {m.code: m for m in Merchant.objects.filter(code__in=MERCHANTS)}
    incidents = _incidents()
    made = 0
    with override_settings(CLAIMS_FILING_WINDOW_DAYS=3650):
        for n, ((target, code), incident) in enumerate(zip(SCENARIOS, incidents, strict=False)):
            merchant, user = merchants[code], _user(code)
            if target == S.DRAFT:
                services.file_claim(
                    merchant=merchant,
                    incident=incident,
                    by=user,
                    claimed_amount=Decimal("860.00"),
                    statement="Our evening session froze for 20 minutes; the system did not list it.",
                    session_reference="Evening tea tasting 20:00",
                    documents=[SimpleUploadedFile("orders-export.csv", CSV_EVIDENCE)],
                )
                made += 1
                continue
            _session(incident, merchant, n)
            # The overdue claim was proposed and submitted in the past (its deadline has passed):
            # the clock is moved back for both, so its timeline reads in order.
            clock = (
                mock.patch("django.utils.timezone.now", return_value=timezone.now() - OVERDUE_BY - timedelta(hours=1))
                if target == "overdue"
                else nullcontext()
            )
            with clock:
                sync_incident_claims(incident)
                claim = Claim.objects.filter(incident=incident, merchant=merchant).first()
                if claim is None:
                    claim = services.propose(
                        incident=incident, merchant=merchant, amount=Decimal("300.00"), currency="CNY"
                    )
            _walk(claim, target, user, support, support2, finance)
            made += 1
    stdout.write(f"  claims: {made} demo claims across every workflow state")


def _walk(claim, target, merchant_user, support, support2, finance):  # noqa: C901 - a plain script
    if target == S.PROPOSED:
        return
    if target == S.EXPIRED:
        services.expire(claim=claim, force=True)  # a fresh proposal, expired on purpose for the demo
        return
    if target == S.WITHDRAWN:
        services.withdraw(claim=claim, by=merchant_user, message="We settled this with the viewer directly.")
        return
    if target == "overdue":
        # Submitted 26 hours ago, so its 24-hour first response is overdue. The clock is moved
        # back (not the rules), so deadlines and the audit trail stay consistent.
        submitted_at = timezone.now() - OVERDUE_BY
        with mock.patch("django.utils.timezone.now", return_value=submitted_at):
            services.submit(claim=claim, by=merchant_user)
        return
    claim = services.submit(claim=claim, by=merchant_user)
    if target == S.SUBMITTED:
        return
    claim = services.start_review(claim=claim, by=support)
    if target == S.UNDER_REVIEW:
        return
    if target == "pending_second_approval":
        services.partially_approve(
            claim=claim,
            by=support,
            amount=claim.computed_amount + Decimal("120.00"),
            reason="partial_evidence",
            message="The merchant's order export shows lost orders beyond the estimate.",
        )
        return
    if target == S.INFO_REQUESTED:
        services.request_info(
            claim=claim,
            by=support,
            reason="missing_information",
            message="Please upload the order export of the session.",
        )
        return
    if target == S.REJECTED:
        services.reject(
            claim=claim,
            by=support,
            reason="not_platform_caused",
            message="The stream failed on the merchant's encoder.",
        )
        return
    if target in (S.PARTIALLY_APPROVED, S.DISPUTED, "final_decision"):
        amount = (claim.computed_amount * Decimal("0.7")).quantize(Decimal("0.01"))
        claim = services.partially_approve(
            claim=claim, by=support, amount=amount, reason="baseline_adjusted", message="Weekday baseline is lower."
        )
        if target == S.PARTIALLY_APPROVED:
            return
        claim = services.dispute(
            claim=claim,
            by=merchant_user,
            reason="amount_disagreement",
            statement="Our weekday sessions sell as much as weekend ones.",
        )
        if target == S.DISPUTED:
            return
        claim = services.start_review(claim=claim, by=support2)
        services.approve(
            claim=claim, by=support2, reason="loss_confirmed", message="After the dispute: the full computed amount."
        )
        return
    claim = services.approve(claim=claim, by=support, reason="loss_confirmed", message="Matches the session metrics.")
    if target == S.APPROVED:
        return
    claim = services.accept(claim=claim, by=merchant_user, message="Thank you.")
    if target == S.ACCEPTED:
        return
    services.settle(claim=claim, by=finance, payment_reference="PAY-2026-11-0001")
