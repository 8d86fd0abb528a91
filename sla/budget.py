"""The error budget of the month in progress, burn rates and alerts (README "Provider telemetry").

Budget = (100 % − availability target) of the month's eligible time; spent = the downtime so far
by the contract's availability method. Burn rate over a window = (100 % − availability in that
window) / (100 % − target): 1 spends the budget exactly by month end. As in the Google SRE
workbook's multi-window alerts, the fast alert needs both the 1 h and the 5 min burn above 14.4,
the slow one both the 6 h and the 30 min burn above 6. The month end is projected by spending
at the month's average rate so far; when that projection falls into a credit tier, support and
finance are told once per tier with the projected credit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts import roles
from core.mail import send_mass_mail
from incidents.models import Cause, Incident, IncidentState, MaintenanceWindow

from . import evaluation as ev
from . import periods, selectors
from .models import BudgetAlert, SLAContract

FAST = (timedelta(hours=1), timedelta(minutes=5), Decimal("14.4"))
SLOW = (timedelta(hours=6), timedelta(minutes=30), Decimal("6"))


@dataclass
class Budget:
    contract: SLAContract
    period: date
    now: datetime
    budget_minutes: Decimal
    spent_minutes: Decimal
    left_minutes: Decimal
    left_percent: Decimal  # of the month's budget
    availability_percent: Decimal  # the month so far
    projected_availability: Fraction
    projected_tier: ev.Tier | None
    projected_credit_percent: Decimal
    projected_credit_amount: Decimal
    burn: dict[str, Decimal]  # "1h", "5m", "6h", "30m"
    fast_burn: bool
    slow_burn: bool

    @property
    def projected_availability_percent(self) -> Decimal:
        return ev.round_half_up(self.projected_availability, 4)

    def as_json(self) -> dict:
        return {
            "contract": self.contract.code,
            "period": f"{self.period:%Y-%m}",
            "availability_method": self.contract.availability_method,
            "budget_minutes": str(self.budget_minutes),
            "spent_minutes": str(self.spent_minutes),
            "left_minutes": str(self.left_minutes),
            "left_percent": str(self.left_percent),
            "availability_percent": str(self.availability_percent),
            "projected_availability_percent": str(self.projected_availability_percent),
            "projected_credit_percent": str(self.projected_credit_percent),
            "projected_credit_amount": str(self.projected_credit_amount),
            "currency": self.contract.currency,
            "burn_rates": {k: str(v) for k, v in self.burn.items()},
            "fast_burn": self.fast_burn,
            "slow_burn": self.slow_burn,
        }


def window_result(contract: SLAContract, start: datetime, end: datetime, now: datetime) -> ev.Result:
    """The contract's figures over any ``[start, end)`` (a burn-rate window), by its method."""
    services = list(contract.services.all())
    incidents = [
        ev.IncidentIn(service=row.pop("service__code"), **row)
        for row in Incident.objects.filter(service__in=services, cause=Cause.PROVIDER, started_at__lt=end)
        .exclude(state=IncidentState.VOIDED)
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=start))
        .order_by("started_at", "id")
        .values(*selectors.INCIDENT_FIELDS)
    ]
    maintenance = [
        ev.MaintenanceIn(service=row.pop("service__code"), **row)
        for row in MaintenanceWindow.objects.filter(service__in=services, starts_at__lt=end, ends_at__gt=start)
        .order_by("starts_at", "id")
        .values(*selectors.MAINTENANCE_FIELDS)
    ]
    result = ev.evaluate(contract.terms(), start, end, incidents, maintenance, now=now, claim_deadline=end.date())
    # Runs are measured on the day before as well: a run is as long as it is, not as the window.
    result, _figures = selectors.with_telemetry(
        contract=contract, result=result, ws=start, we=end, maintenance=maintenance, lookback=timedelta(days=1)
    )
    return result


def _burn(contract: SLAContract, span: timedelta, now: datetime) -> Decimal:
    result = window_result(contract, now - span, now, now)
    allowed = 100 - Fraction(contract.availability_target)
    if allowed <= 0:
        return Decimal("0.00")
    return ev.round_half_up((100 - result.availability) / allowed, 2)


def budget_for(contract_code: str, *, now: datetime | None = None) -> Budget:
    """The budget of the month (in the contract's time zone) that contains ``now``."""
    now = now or timezone.now()
    computed = selectors.compute_one(
        code=contract_code, period=periods.period_date(_local_month(contract_code, now)), now=now
    )
    contract, r = computed.contract, computed.result
    allowed = 100 - Fraction(contract.availability_target)
    budget_us = allowed * r.eligible_us / 100
    spent = Fraction(r.downtime)
    elapsed = max(0, min(ev.to_us(now), ev.to_us(r.window_end)) - ev.to_us(r.window_start))
    projected_spent = spent * r.window_us / elapsed if elapsed else spent
    projected = ev.HUNDRED if r.eligible_us <= 0 else (r.eligible_us - projected_spent) * 100 / r.eligible_us
    projected = max(projected, Fraction(0))
    tiers = [t for t in contract.terms().credit_tiers if Fraction(t.below) > projected]
    tier = max(tiers, key=lambda t: t.credit_percent, default=None)
    pct = min(tier.credit_percent, contract.credit_cap_percent) if tier else Decimal("0")
    burn = {}
    for name, span in (("1h", FAST[0]), ("5m", FAST[1]), ("6h", SLOW[0]), ("30m", SLOW[1])):
        burn[name] = _burn(contract, span, now)
    left = budget_us - spent
    return Budget(
        contract=contract,
        period=computed.period,
        now=now,
        budget_minutes=ev.minutes(budget_us),
        spent_minutes=ev.minutes(spent),
        left_minutes=ev.minutes(left),
        left_percent=ev.round_half_up(left * 100 / budget_us, 2) if budget_us else Decimal("0.00"),
        availability_percent=r.availability_percent,
        projected_availability=projected,
        projected_tier=tier,
        projected_credit_percent=ev._pct(pct),
        projected_credit_amount=ev.round_half_up(Fraction(pct) * Fraction(contract.monthly_fee) / 100, 2),
        burn=burn,
        fast_burn=burn["1h"] > FAST[2] and burn["5m"] > FAST[2],
        slow_burn=burn["6h"] > SLOW[2] and burn["30m"] > SLOW[2],
    )


def _local_month(contract_code: str, now: datetime) -> str:
    contract = SLAContract.objects.filter(code=contract_code).order_by("-version").first()
    zone = ZoneInfo(contract.timezone if contract else settings.TIME_ZONE)
    return f"{now.astimezone(zone):%Y-%m}"


def check_budgets(*, now: datetime | None = None, codes=None) -> list[BudgetAlert]:
    """Project every contract's month; alert support and finance once per newly reached tier."""
    now = now or timezone.now()
    codes = sorted(set(codes or SLAContract.objects.values_list("code", flat=True)))
    alerts = []
    for code in codes:
        try:
            budget = budget_for(code, now=now)
        except selectors.ContractNotFound:
            continue
        if budget.projected_tier is None:
            continue
        alert = _record_alert(budget)
        if alert is not None:
            alerts.append(alert)
    return alerts


def _record_alert(budget: Budget) -> BudgetAlert | None:
    assert budget.projected_tier is not None  # only a month heading into a tier is alerted
    try:
        with transaction.atomic():
            alert = BudgetAlert.objects.create(
                contract_code=budget.contract.code,
                period=budget.period,
                tier_below=budget.projected_tier.below,
                projected_availability_percent=budget.projected_availability_percent,
                projected_credit_percent=budget.projected_credit_percent,
                projected_credit_amount=budget.projected_credit_amount,
                currency=budget.contract.currency,
                budget_left_minutes=budget.left_minutes,
                fast_burn_rate=budget.burn["1h"],
                slow_burn_rate=budget.burn["6h"],
                created_at=budget.now,
            )
    except IntegrityError:
        return None  # already told for this tier
    _notify(alert)
    return alert


def _notify(alert: BudgetAlert) -> None:
    User = get_user_model()
    recipients = User.objects.filter(
        groups__name__in=[roles.SUPPORT, roles.FINANCE], is_active=True, email__gt=""
    ).distinct()
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("SLA %(code)s %(period)s is heading below %(below)s %%") % {
            "code": alert.contract_code,
            "period": f"{alert.period:%Y-%m}",
            "below": alert.tier_below,
        }
        body = _(
            "Projected availability at month end: %(availability)s %%. Projected credit: %(percent)s %% = "
            "%(amount)s %(currency)s. Error budget left: %(left)s minutes. Burn rate 1 h: %(fast)s, 6 h: %(slow)s."
        ) % {
            "availability": alert.projected_availability_percent,
            "percent": alert.projected_credit_percent,
            "amount": alert.projected_credit_amount,
            "currency": alert.currency,
            "left": alert.budget_left_minutes,
            "fast": alert.fast_burn_rate,
            "slow": alert.slow_burn_rate,
        }
    messages = [(subject, body, settings.DEFAULT_FROM_EMAIL, [u.email]) for u in recipients]
    if messages:
        transaction.on_commit(lambda: send_mass_mail(messages, fail_silently=True))
