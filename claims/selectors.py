"""Reads of the claim workflow: scoped lists, the staff queue, the dashboard, the loss breakdown."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import User
from django.db.models import (
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
)
from django.utils import timezone

from accounts import roles
from accounts.types import AnyUser
from claims.models import OPEN_STAFF_STATES, TERMINAL_STATES, Claim, ClaimEvent, ClaimNotification, ClaimState
from core.db import reports_db
from incidents.models import Incident
from merchants.models import Membership, Merchant, missing_payout_details
from merchants.selectors import merchant_ids_for_user, merchants_for_user
from sla.selectors import facts_for_incident

from . import charts, config

if TYPE_CHECKING:
    from losses.models import LossAssessment


def visible_claims(*, user: AnyUser) -> QuerySet[Claim]:
    """Claims a user may see: staff all of them, a merchant user only its merchants' claims."""
    qs = Claim.objects.all()
    if roles.is_staff_role(user):
        return qs
    if roles.is_merchant_user(user):
        return qs.filter(merchant_id__in=merchant_ids_for_user(user=user))
    return qs.none()


def visible_merchants(*, user: AnyUser) -> QuerySet[Merchant]:
    """Merchants a user may see: staff all of them, a merchant user only its own.

    Filing a claim for a merchant outside the set is answered like for an unknown one (404), as
    other merchants' claims are: the answer does not tell whether the id exists.
    """
    if roles.is_staff_role(user):
        return Merchant.objects.all()
    return merchants_for_user(user=user)


def claim_list(
    *,
    user: AnyUser,
    state: str | None = None,
    incident: int | str | None = None,
    merchant: int | str | None = None,
    overdue: bool | None = None,
    q: str = "",
    now: datetime | None = None,
) -> QuerySet[Claim]:
    """A list with what a row shows (merchant, incident, assignee), in a constant number of queries."""
    now = now or timezone.now()
    qs = visible_claims(user=user).select_related("merchant", "incident", "assignee")
    if q:
        qs = qs.filter(search_filter(q=q))
    if state:
        qs = qs.filter(state=state)
    if incident:
        qs = qs.filter(incident_id=incident)
    if merchant:
        # The merchant's id first (a tiny subquery), so the claims are found through their
        # (merchant, state) index instead of joining every claim to its merchant.
        by = Q(code=merchant) | Q(pk=merchant) if str(merchant).isdigit() else Q(code=merchant)
        qs = qs.filter(merchant_id__in=Merchant.objects.filter(by).values("pk"))
    if overdue:
        qs = qs.filter(due_at__lt=now)
    return qs


def search_filter(*, q: str) -> Q:
    """One box for what staff have at hand: a claim number (``123``, ``#123``, ``C-000123``), a
    merchant's name or code, an incident's reference (``SW-20261003``) or title."""
    text = q.strip()
    number = text.lstrip("#")
    if number[:2].upper() == "C-":
        number = number[2:]
    match = (
        Q(merchant__name__icontains=text)
        | Q(merchant__code__iexact=text)
        | Q(incident__external_id__icontains=text)
        | Q(incident__title__icontains=text)
    )
    if number.isdigit() and len(number) < 19:
        match |= Q(pk=int(number))
    source, colon, external_id = text.partition(":")
    if colon and source and external_id:  # the full key as exports print it, ``statuswatch:SW-…``
        match |= Q(incident__source__iexact=source, incident__external_id__iexact=external_id)
    return match


def staff_queue(*, user: AnyUser, **filters: Any) -> QuerySet[Claim]:
    """Open claims ordered by the nearest staff deadline (overdue first), then the rest. A search
    looks at every state unless one is chosen: staff searching a claim number mean that claim,
    decided or not."""
    qs = claim_list(user=user, **filters)
    if not filters.get("state") and not filters.get("q"):
        qs = qs.filter(state__in=OPEN_STAFF_STATES)  # read in this order from ``claim_queue_idx``
    return qs.order_by(F("due_at").asc(nulls_last=True), "created_at", "id")


def incidents_with_claims(*, limit: int = 50) -> QuerySet[Incident]:
    """The newest incidents that have claims, for the queue's incident filter.

    Newest by id (the primary key's order), each checked by an EXISTS probe of the claims'
    (incident, merchant) key: the cost is ``limit`` probes, however many claims there are.
    """
    has_claims = Exists(Claim.objects.filter(incident=OuterRef("pk")))
    return (
        Incident.objects.filter(has_claims)
        .only("pk", "title", "state", "external_id", "started_at")
        .order_by("-pk")[:limit]
    )


def merchant_suggestions(*, query: str, limit: int = 20) -> QuerySet[Merchant]:
    """Merchants whose code starts with, or whose name contains, ``query`` (the queue's filter)."""
    query = query.strip()
    if not query:
        return Merchant.objects.none()
    return (
        Merchant.objects.filter(Q(code__istartswith=query) | Q(name__icontains=query))
        .only("code", "name")
        .order_by("code")[:limit]
    )


def dashboard(*, now: datetime | None = None) -> dict[str, Any]:
    """Counts per state, overdue claims, median staff time from submission to first decision (last 90 days)."""
    now = now or timezone.now()
    claims = Claim.objects.using(reports_db())  # a read-only report: the replica when there is one
    counts = dict(claims.values_list("state").annotate(n=Count("id")).values_list("state", "n"))
    per_state = [(value, label, counts.get(value, 0)) for value, label in ClaimState.choices]
    overdue = claims.filter(due_at__lt=now).count()
    median, decided = median_time_to_decision(now=now)
    return {
        "per_state": per_state,
        "overdue": overdue,
        "median_hours_to_decision": round(median.total_seconds() / 3600, 1) if median is not None else None,
        "decided": decided,
    }


def median_time_to_decision(*, now: datetime, days: int = 90) -> tuple[timedelta | None, int]:
    """(median submission -> first decision, number of claims) over claims first decided in the last ``days``.

    The time the claim waited for the merchant's answers (``merchant_wait``) is left out, as it
    is from the staff deadlines. Only claims a merchant submitted count (a bulk-approved
    proposal was never submitted). The database orders the durations; only the one or two
    middle rows are read (two queries).
    """
    staff_time = F("first_decided_at") - F("submitted_at") - F("merchant_wait")
    durations = (
        Claim.objects.using(reports_db())
        .filter(
            submitted_at__isnull=False, first_decided_at__isnull=False, first_decided_at__gte=now - timedelta(days=days)
        )
        .annotate(duration=ExpressionWrapper(staff_time, output_field=DurationField()))
        .order_by("duration", "pk")
        .values_list("duration", flat=True)
    )
    n = durations.count()
    if not n:
        return None, 0
    middle = list(durations[(n - 1) // 2 : n // 2 + 1])
    return sum(middle, timedelta()) / len(middle), n


# Staff-internal entries of a claim's audit trail: a partial approval waiting for its second
# approver (with the staff's internal message), the engine's recomputations, staff notes.
STAFF_ONLY_EVENT_KINDS = (ClaimEvent.Kind.APPROVAL_REQUESTED, ClaimEvent.Kind.RECOMPUTED, ClaimEvent.Kind.NOTE)


def claim_detail(*, user: AnyUser, pk: int) -> Claim:
    """The claim with its events and documents; a merchant user's copy leaves the staff-internal events out."""
    events = ClaimEvent.objects.select_related("actor").order_by("created_at", "id")
    if not roles.is_staff_role(user):
        events = events.exclude(kind__in=STAFF_ONLY_EVENT_KINDS)
    return (
        visible_claims(user=user)
        .select_related(
            "merchant",
            "incident__service__provider",
            "assignee",
            "decided_by",
            "first_decided_by",
            "pending_by",
            "second_approver",
        )
        .prefetch_related(Prefetch("events", queryset=events), "documents", "incident__regions")
        .get(pk=pk)
    )


def open_info_request(*, claim: Claim) -> ClaimEvent | None:
    """The staff question the merchant has to answer (the latest ``request_info`` event), or None."""
    if claim.state != ClaimState.INFO_REQUESTED:
        return None
    asked = [e for e in claim.events.all() if e.action == "request_info"]  # prefetched by claim_detail
    return asked[-1] if asked else None


def current_assessment(*, claim: Claim) -> LossAssessment | None:
    """The loss engine's current assessment of this claim's merchant and incident, with its lines."""
    from losses.models import LossAssessment, LossAssessmentLine

    lines = LossAssessmentLine.objects.select_related("session").order_by("window_start", "id")
    return (
        LossAssessment.objects.filter(incident_id=claim.incident_id, merchant_id=claim.merchant_id, is_current=True)
        .select_related("policy")
        .prefetch_related(Prefetch("lines", queryset=lines))
        .first()
    )


def breakdown(*, claim: Claim) -> dict[str, Any]:
    """The loss per hit session, each with its chart (actual GMV per minute, baseline, outage shaded)."""
    from losses.selectors import explanation, gmv_chart_series

    assessment = current_assessment(claim=claim)
    if assessment is None:
        return {"assessment": None, "lines": []}
    explain = explanation(assessment=assessment)
    lines = []
    for row in explain["lines"]:
        series = gmv_chart_series(line_or_session=row["line"], incident=claim.incident)
        # Drawn twice: at 640 px wide for a desktop, and narrower and taller for a phone, where the
        # wide one would be scaled down to half-size, unreadable labels (CSS shows one of them).
        lines.append(
            {
                "line": row["line"],
                "x": row,
                "chart": charts.svg_chart(series),
                "phone_chart": charts.svg_chart(series, width=charts.PHONE_WIDTH, height=charts.PHONE_HEIGHT),
            }
        )
    return {"assessment": assessment, "lines": lines, "explain": explain}


def incident_facts(*, incident: Incident) -> dict[str, str]:
    """SLA facts of the incident's month (label -> value), from the SLA app."""
    return facts_for_incident(incident=incident)


def notifications_for(*, user: AnyUser) -> QuerySet[ClaimNotification]:
    if not isinstance(user, User):  # anonymous: nobody's notifications
        return ClaimNotification.objects.none()
    return ClaimNotification.objects.filter(recipient=user).select_related("claim__merchant", "event")


HOME_ROWS = 20


def home_for_merchant(*, user: AnyUser) -> dict[str, Any]:
    """Incidents that hit the merchant's sessions, and the claims waiting for the merchant (bounded lists)."""
    from losses.models import LossAssessment
    from settlements.selectors import with_payment_failed

    ids = merchant_ids_for_user(user=user)
    hits = list(
        LossAssessment.objects.filter(merchant_id__in=ids, is_current=True)
        .select_related("incident__service", "merchant")
        .order_by("-incident__started_at")[:HOME_ROWS]
    )
    claims_by_key = {
        (c.incident_id, c.merchant_id): c
        for c in Claim.objects.filter(merchant_id__in=ids, incident_id__in={a.incident_id for a in hits}).only(
            "id", "incident_id", "merchant_id", "state", "computed_amount", "currency", "expires_at"
        )
    }
    incidents = [
        {
            "assessment": a,
            "claim": claims_by_key.get((a.incident_id, a.merchant_id)),
            "covered_by": covering_claims(assessment=a) if not a.compensation else [],
        }
        for a in hits
    ]
    waiting = (
        Claim.objects.filter(merchant_id__in=ids, state=ClaimState.PROPOSED)
        .select_related("incident", "merchant")
        .order_by("expires_at", "id")[:HOME_ROWS]
    )
    # A claim whose payment failed waits for the merchant too: its payout details need a look.
    action_needed = (
        with_payment_failed(qs=Claim.objects.filter(merchant_id__in=ids))
        .filter(
            Q(
                state__in=[
                    ClaimState.DRAFT,
                    ClaimState.INFO_REQUESTED,
                    ClaimState.APPROVED,
                    ClaimState.PARTIALLY_APPROVED,
                    ClaimState.REJECTED,
                ]
            )
            | Q(payment_failed=True)
        )
        .select_related("incident", "merchant")
        .order_by(F("expires_at").asc(nulls_last=True), "-updated_at")[:HOME_ROWS]
    )
    # Merchants with nowhere to pay them yet (the first payment would fail), in one query.
    admin = Membership.objects.filter(
        merchant=OuterRef("pk"), user_id=user.pk or 0, is_admin=True, user__is_active=True
    )
    no_payout = [
        {"merchant": m, "admin": m.user_is_admin, "named": len(ids) > 1}
        for m in Merchant.objects.filter(missing_payout_details(), pk__in=ids)
        .annotate(user_is_admin=Exists(admin))
        .order_by("name", "pk")[:HOME_ROWS]
    ]
    return {"incidents": incidents, "waiting": waiting, "action_needed": action_needed, "no_payout": no_payout}


def covering_claims(*, assessment: LossAssessment) -> list[Claim]:
    """The merchant's claims on other incidents that already counted this assessment's minutes.

    An incident whose minutes were all compensated under an overlapping, earlier-assessed
    incident comes out at 0.00; without naming the claim that paid them, the merchant is
    invited to file a duplicate.
    """
    from incidents.models import IncidentState
    from losses.models import LossAssessment

    overlap = Q()
    for line in assessment.lines.filter(excluded_minutes__gt=0).only("session_id", "window_start", "window_end"):
        overlap |= Q(
            lines__session_id=line.session_id,
            lines__window_start__lt=line.window_end,
            lines__window_end__gt=line.window_start,
        )
    if not overlap:
        return []
    earlier = (
        LossAssessment.objects.filter(
            overlap,
            merchant_id=assessment.merchant_id,
            is_current=True,
            responsibility_percent__gt=0,
            first_computed_at__lt=assessment.first_computed_at,
        )
        .exclude(incident_id=assessment.incident_id)
        .exclude(incident__state=IncidentState.VOIDED)
        .values("incident_id")
    )
    return list(
        Claim.objects.filter(merchant_id=assessment.merchant_id, incident_id__in=earlier)
        .select_related("incident")
        .order_by("incident__started_at", "pk")
    )


def second_reviewers(*, claim: Claim) -> list[User]:
    """Who may decide a disputed claim: support users other than the first decider who do not
    belong to the claim's merchant (the first decider sees no actions, so the page names them)."""
    reviewers = User.objects.filter(groups__name=roles.SUPPORT, is_active=True).exclude(
        memberships__merchant_id=claim.merchant_id
    )
    if claim.first_decided_by_id is not None:
        reviewers = reviewers.exclude(pk=claim.first_decided_by_id)
    return list(reviewers.distinct().order_by("username"))


def incidents_with_proposals(*, limit: int = 50) -> list[Incident]:
    """Incidents with proposed claims waiting, and how many: bulk approval starts from these."""
    from incidents.models import Incident

    return list(
        Incident.objects.filter(claims__state=ClaimState.PROPOSED)
        .annotate(proposed=Count("claims", filter=Q(claims__state=ClaimState.PROPOSED)))
        .order_by("-started_at")[:limit]
    )


def earliest_metric_minute_in_use(*, now: datetime | None = None) -> datetime | None:
    """The earliest metric minute that a claim window still open at ``now`` may read, or None.

    An incident's claim window is open while the incident is not voided and either it is
    unresolved, its filing window (``CLAIMS_FILING_WINDOW_DAYS`` after resolution) has not
    passed, or one of its claims is not final (accepted, settled, withdrawn, expired, or
    rejected after its one dispute): each of those may still be (re)computed. A computation
    reads from the incident's start back over the longest baseline any policy version uses
    (its history days, the v2 calibration week, the pre-incident minutes), plus a day's margin.
    """
    from losses.model_v2 import CALIBRATION_DAYS
    from losses.models import CompensationPolicy

    now = now or timezone.now()
    final = Q(state__in=TERMINAL_STATES) | Q(state=ClaimState.REJECTED, dispute_count__gt=0)
    open_claims = Claim.objects.filter(incident=OuterRef("pk")).exclude(final)
    earliest_start = (
        Incident.objects.exclude(state="voided")
        .filter(
            Q(resolved_at__isnull=True)
            | Q(resolved_at__gt=now - config.days("FILING_WINDOW_DAYS"))
            | Exists(open_claims)
        )
        .aggregate(first=Min("started_at"))["first"]
    )
    if earliest_start is None:
        return None
    limits = CompensationPolicy.objects.aggregate(days=Max("historical_days"), pre=Max("pre_incident_window_minutes"))
    days = max(limits["days"] or 0, CALIBRATION_DAYS) + 1
    return earliest_start - timedelta(days=days, minutes=limits["pre"] or 0)
