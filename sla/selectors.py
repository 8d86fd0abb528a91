"""Reads: pick the contract version of a month, load its incidents and maintenance windows
in a constant number of queries (however many contracts), and evaluate them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import NotFound
from core.templatetags.money import format_money
from incidents.models import Cause, Incident, IncidentState, MaintenanceWindow, Provider

from . import evaluation as ev
from . import telemetry_evaluation as tev
from .models import CreditClaimState, ProviderCreditClaim, ProviderCreditClaimEvent, SLAContract, SLAEvaluation
from .periods import Period, claim_deadline, period_date, version_for_month, window_for

ZERO = Decimal("0.00")


class ContractNotFound(NotFound):
    pass


@dataclass
class Computed:
    contract: SLAContract
    period: date  # first day of the month
    result: ev.Result
    telemetry: tev.TelemetryFigures | None = None  # availability by error rate, quality targets

    @property
    def code(self) -> str:
        return self.contract.code


def versions_by_code(*, codes: Iterable[str]) -> dict[str, list[SLAContract]]:
    """Every version of the given contract codes, services prefetched (2 queries)."""
    found: dict[str, list[SLAContract]] = defaultdict(list)
    qs = SLAContract.objects.filter(code__in=set(codes)).select_related("provider").prefetch_related("services")
    for contract in qs.order_by("code", "effective_from", "version"):
        found[contract.code].append(contract)
    return found


INCIDENT_FIELDS = (
    "id",
    "external_id",
    "title",
    "impact",
    "started_at",
    "detected_at",
    "acknowledged_at",
    "mitigated_at",
    "resolved_at",
    "service__code",
)
MAINTENANCE_FIELDS = ("id", "starts_at", "ends_at", "announced_at", "description", "service__code")


def compute(*, pairs: Iterable[tuple[str, Period]], now: datetime | None = None) -> list[Computed]:
    """Evaluate ``(code, period)`` pairs. Queries: 2 for contracts, 1 incidents, 1 maintenance."""
    now = now or timezone.now()
    months = [(code, period_date(p)) for code, p in pairs]
    if not months:
        return []
    versions = versions_by_code(codes=(code for code, _ in months))
    jobs = []
    for code, period in months:
        if code not in versions:
            raise ContractNotFound(_("unknown contract %(code)r") % {"code": code})
        picked = version_for_month(versions[code], period)
        if picked is None:
            continue
        contract, first_day, last_day = picked
        ws, we = window_for(contract, first_day, last_day)
        services = {s.code for s in contract.services.all()}
        jobs.append((contract, period, ws, we, services))
    if not jobs:
        return []

    all_services = set().union(*(j[4] for j in jobs))
    lo, hi = min(j[2] for j in jobs), max(j[3] for j in jobs)
    incidents_by_service: dict[str, list[ev.IncidentIn]] = defaultdict(list)
    rows = (
        Incident.objects.filter(service__code__in=all_services, cause=Cause.PROVIDER, started_at__lt=hi)
        .exclude(state=IncidentState.VOIDED)
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=lo))
        .order_by("started_at", "id")
        .values_list(*INCIDENT_FIELDS)
    )
    for row in rows:
        data = dict(zip(INCIDENT_FIELDS, row, strict=True))
        service = data.pop("service__code")
        incidents_by_service[service].append(ev.IncidentIn(service=service, **data))
    maintenance_by_service: dict[str, list[ev.MaintenanceIn]] = defaultdict(list)
    mrows = (
        MaintenanceWindow.objects.filter(service__code__in=all_services, starts_at__lt=hi, ends_at__gt=lo)
        .order_by("starts_at", "id")
        .values_list(*MAINTENANCE_FIELDS)
    )
    for row in mrows:
        data = dict(zip(MAINTENANCE_FIELDS, row, strict=True))
        service = data.pop("service__code")
        maintenance_by_service[service].append(ev.MaintenanceIn(service=service, **data))

    out = []
    for contract, period, ws, we, services in jobs:
        incidents = [
            i
            for s in sorted(services)
            for i in incidents_by_service[s]
            if i.started_at < we and (i.resolved_at is None or i.resolved_at >= ws)
        ]
        maintenance = [
            m for s in sorted(services) for m in maintenance_by_service[s] if m.starts_at < we and m.ends_at > ws
        ]
        result = ev.evaluate(
            contract.terms(), ws, we, incidents, maintenance, now=now, claim_deadline=claim_deadline(contract, period)
        )
        result, telemetry = with_telemetry(contract=contract, result=result, ws=ws, we=we, maintenance=maintenance)
        out.append(Computed(contract, period, result, telemetry))
    return out


def with_telemetry(
    *,
    contract: SLAContract,
    result: ev.Result,
    ws: datetime,
    we: datetime,
    maintenance: list[ev.MaintenanceIn],
    lookback: timedelta | None = None,
) -> tuple[ev.Result, tev.TelemetryFigures | None]:
    """Availability by error rate and quality credits, for contracts that use them (2 queries each)."""
    tterms = contract.telemetry_terms()
    if not tterms.needed:
        return result, None
    windows, counts = tev.telemetry_inputs([s.pk for s in contract.services.all()], tterms, ws, we, lookback)
    return tev.apply_telemetry(result, contract.terms(), tterms, windows, counts, maintenance)


def compute_one(*, code: str, period: Period, now: datetime | None = None) -> Computed:
    found = compute(pairs=[(code, period)], now=now)
    if not found:
        raise ContractNotFound(
            _("contract %(code)r is not in effect in %(period)s")
            % {"code": code, "period": f"{period_date(period):%Y-%m}"}
        )
    return found[0]


def result_json(*, computed: Computed, details: bool = True) -> dict[str, Any]:
    """The figures of an evaluation as JSON (numbers as decimal strings, as in the API)."""
    c, r = computed.contract, computed.result
    data = {
        "contract": c.code,
        "version": c.version,
        "provider": c.provider.name,
        "period": f"{computed.period:%Y-%m}",
        "timezone": c.timezone,
        "window_start": r.window_start.isoformat(),
        "window_end": r.window_end.isoformat(),
        "evaluated_at": r.evaluated_at.isoformat(),
        "eligible_minutes": str(r.eligible_minutes),
        "excluded_minutes": str(r.excluded_minutes),
        "downtime_minutes": str(r.downtime_minutes),
        "availability_percent": str(r.availability_percent),
        "availability_target": str(r.availability_target),
        "meets_target": r.meets_target,
        "tier_credit_percent": str(r.tier_credit_percent),
        "recovery_breaches": r.recovery_breaches,
        "response_breaches": r.response_breaches,
        "recovery_credit_percent": str(r.recovery_credit_percent),
        "response_credit_percent": str(r.response_credit_percent),
        "uncapped_credit_percent": str(r.uncapped_credit_percent),
        "credit_cap_percent": str(c.credit_cap_percent),
        "credit_percent": str(r.credit_percent),
        "monthly_fee": str(c.monthly_fee),
        "credit_amount": str(r.credit_amount),
        "below_minimum_credit": r.below_minimum_credit,
        "currency": c.currency,
        "claim_deadline": r.claim_deadline.isoformat(),
        "provisional": r.provisional,
    }
    data["availability_method"] = c.availability_method
    if computed.telemetry is not None:
        telemetry = computed.telemetry.as_json()
        if c.availability_method == tev.INCIDENTS:
            for key in ("down_windows", "eligible_windows", "runs"):
                telemetry.pop(key)
        data.update(telemetry)
    else:
        data["quality"] = []
    if details:
        data["incidents"] = r.incidents
        data["maintenance"] = r.maintenance
        data["dropped_stretches"] = r.dropped_stretches
    return data


# --------------------------------------------------------------------------- pages


def provider_dashboard(
    *, provider: Provider, months: int = 12
) -> tuple[dict[str, list[SLAEvaluation]], list[ProviderCreditClaim]]:
    """Current evaluations of a provider's contracts (last ``months``), claims and totals,
    in a constant number of queries."""
    evaluations = list(
        SLAEvaluation.objects.filter(contract__provider=provider, is_current=True)
        .select_related("contract")
        .prefetch_related("contract__services")
        .defer("details")  # the snapshot is for the evaluation page, not the dashboard
        .order_by("contract_code", "period")
    )
    by_code: dict[str, list[SLAEvaluation]] = defaultdict(list)
    for e in evaluations:
        by_code[e.contract_code].append(e)
    for code in by_code:
        by_code[code] = by_code[code][-months:]
    claims = list(
        ProviderCreditClaim.objects.filter(provider=provider)
        .select_related("provider")
        .order_by("claim_deadline", "id")
    )
    return by_code, claims


def warning_claims() -> list[ProviderCreditClaim]:
    """Claims not filed whose deadline is within 7 days (or passed)."""
    from .models import CLAIM_WARNING_DAYS, CreditClaimState

    limit = timezone.localdate() + timedelta(days=CLAIM_WARNING_DAYS)
    return list(
        ProviderCreditClaim.objects.filter(state=CreditClaimState.DUE, claim_deadline__lte=limit)
        .select_related("provider")
        .order_by("claim_deadline")
    )


def claim_history(*, claim: ProviderCreditClaim) -> list[ProviderCreditClaimEvent]:
    """The transitions of a credit claim (who, when, why), oldest first."""
    return list(claim.events.select_related("actor").order_by("at", "id"))


def evaluations_for_incident(*, incident: Incident) -> list[SLAEvaluation]:
    """The current evaluations of the contracts covering the incident's service, for the
    month the incident started in, that month taken in each contract's own time zone."""
    evaluations = (
        SLAEvaluation.objects.filter(is_current=True, contract__services=incident.service_id)
        .select_related("contract")
        .order_by("contract_code")
    )
    wanted = []
    for evaluation in evaluations.filter(
        period__gte=(incident.started_at - timedelta(days=1)).date().replace(day=1),
        period__lte=(incident.started_at + timedelta(days=1)).date(),
    ):
        local = incident.started_at.astimezone(ZoneInfo(evaluation.contract.timezone)).date()
        if evaluation.period == local.replace(day=1):
            wanted.append(evaluation)
    return wanted


def facts_for_incident(*, incident: Incident) -> dict[str, str]:
    """SLA facts of the incident's month for the staff claim page: label -> value."""
    facts = {}
    for evaluation in evaluations_for_incident(incident=incident):
        prefix = f"{evaluation.contract_code} {evaluation.period_label}"
        status = _("final") if evaluation.is_final else _("provisional")
        facts[_("%(p)s availability") % {"p": prefix}] = _("%(a)s %% (target %(t)s %%), %(s)s") % {
            "a": evaluation.availability_percent,
            "t": evaluation.availability_target,
            "s": status,
        }
        facts[_("%(p)s weighted downtime") % {"p": prefix}] = _("%(m)s min") % {"m": evaluation.downtime_minutes}
        facts[_("%(p)s service credit") % {"p": prefix}] = (
            f"{evaluation.credit_percent} % = {format_money(evaluation.credit_amount)} {evaluation.currency}"
        )
    return facts


def providers_overview() -> list[dict]:
    """Providers with SLA contracts, their number of contracts and their credit status per
    currency (``credit_totals``), in two queries."""
    providers = (
        Provider.objects.filter(sla_contracts__isnull=False)
        .distinct()
        .annotate(contracts=Count("sla_contracts__code", distinct=True))
        .order_by("name")
    )
    status = credit_totals(claims=ProviderCreditClaim.objects.all(), key="provider_id")
    return [{"provider": p, "credits": status.get(p.pk, [])} for p in providers]


# --------------------------------------------------------------------------- credit status

# A claim counts as filed from the moment it went to the provider, whatever happened next.
FILED_STATES = frozenset(
    {CreditClaimState.FILED, CreditClaimState.ACKNOWLEDGED, CreditClaimState.CREDITED, CreditClaimState.REJECTED}
)
CLOSED_STATES = frozenset({CreditClaimState.CREDITED, CreditClaimState.REJECTED})


@dataclass(frozen=True)
class CreditStatus:
    """The one definition of where provider service credits stand, for every page and export.

    ``due``: what the contracts entitle us to (every credit claim's amount, filed or not).
    ``filed``: the part of it claimed from the provider (filed, acknowledged or closed).
    ``received``: what the provider credited.
    ``written_off``: what a closed claim did not bring in (all of a rejected claim, the
    shortfall of one credited for less).
    ``still_due`` = due - received - written off: open claims only, never a closed one.
    """

    currency: str
    due: Decimal = ZERO
    filed: Decimal = ZERO
    received: Decimal = ZERO
    written_off: Decimal = ZERO
    claims: int = 0

    @property
    def still_due(self) -> Decimal:
        return self.due - self.received - self.written_off

    @property
    def not_filed(self) -> Decimal:
        return self.due - self.filed

    def __add__(self, other: CreditStatus) -> CreditStatus:
        if other.currency != self.currency:
            raise ValueError("credit figures of different currencies do not add up")
        return CreditStatus(
            self.currency,
            self.due + other.due,
            self.filed + other.filed,
            self.received + other.received,
            self.written_off + other.written_off,
            self.claims + other.claims,
        )

    def as_json(self) -> dict:
        """Amounts as decimal strings, as in the API."""
        return {
            "currency": self.currency,
            "claims": self.claims,
            **{k: f"{getattr(self, k):.2f}" for k in ("due", "filed", "received", "written_off", "still_due")},
        }


def credit_status(*, state: str, currency: str, claimed: Decimal, received: Decimal | None) -> CreditStatus:
    """One credit claim's figures (``CreditStatus``) from its state and amounts."""
    got = received if received is not None else ZERO
    return CreditStatus(
        currency=currency,
        due=claimed,
        filed=claimed if state in FILED_STATES else ZERO,
        received=got,
        written_off=claimed - got if state in CLOSED_STATES else ZERO,
        claims=1,
    )


def claim_credit_status(*, claim: ProviderCreditClaim) -> CreditStatus:
    return credit_status(
        state=claim.state, currency=claim.currency, claimed=claim.amount_claimed, received=claim.amount_received
    )


CREDIT_FIELDS = ("state", "currency", "amount_claimed", "amount_received")


def credit_totals(*, claims: QuerySet[ProviderCreditClaim], key: str | None = None) -> dict:
    """``CreditStatus`` summed per currency (sorted), per ``key`` (a field of the claim, or of
    its relations) when given: ``{key value: [status, ...]}``, else ``{None: [...]}``.
    One query; there is one credit claim per contract and month, so the rows are few."""
    fields = (*CREDIT_FIELDS, key) if key else CREDIT_FIELDS
    sums: dict = defaultdict(dict)
    for row in claims.order_by().values_list(*fields):
        state, currency, claimed, received = row[:4]
        status = credit_status(state=state, currency=currency, claimed=claimed, received=received)
        group = sums[row[4] if key else None]
        group[status.currency] = group[status.currency] + status if status.currency in group else status
    return {k: [v[c] for c in sorted(v)] for k, v in sums.items()}
