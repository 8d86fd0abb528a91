"""Error budget of the month in progress, multi-window burn rates, one alert per tier."""

from datetime import timedelta
from decimal import Decimal

from django.core import mail

from sla.budget import budget_for, check_budgets
from sla.models import BudgetAlert

from .conftest import sh


def test_budget_spent_projection_and_one_alert_per_tier(
    make_contract, windows, support_user, finance_user, django_capture_on_commit_callbacks
):
    make_contract(availability_target=Decimal("99.95"))
    windows(sh(2026, 11, 10, 23, 0), 6, failed=100)  # 30 down minutes; the month is a third over at the end
    windows(sh(2026, 11, 10, 23, 30), 6, failed=0)
    now = sh(2026, 11, 11)
    budget = budget_for("RTC-TEL", now=now)
    assert budget.budget_minutes == Decimal("21.60")  # 0.05 % of 43,200 minutes
    assert budget.spent_minutes == Decimal("30.00") and budget.left_minutes == Decimal("-8.40")
    assert budget.projected_availability_percent == Decimal("99.7917")  # 90 minutes projected
    assert budget.projected_credit_percent == Decimal("10.00") and budget.projected_credit_amount == Decimal("10000.00")
    # 1 h: 30 of 60 minutes down = 50 % / 0.05 % = 1000; the last 5 and 30 minutes were fine.
    assert budget.burn == {
        "1h": Decimal("1000.00"),
        "5m": Decimal("0.00"),
        "6h": Decimal("166.67"),
        "30m": Decimal("0.00"),
    }
    assert not budget.fast_burn and not budget.slow_burn

    with django_capture_on_commit_callbacks(execute=True):
        alerts = check_budgets(now=now)
    assert sorted(m.to[0] for m in mail.outbox) == [finance_user.email, support_user.email]
    assert "10000.00 CNY" in mail.outbox[0].body
    assert [(a.contract_code, a.tier_below, a.projected_credit_amount) for a in alerts] == [
        ("RTC-TEL", Decimal("99.9900"), Decimal("10000.00"))
    ]
    assert check_budgets(now=now + timedelta(minutes=15)) == []
    assert BudgetAlert.objects.count() == 1


def test_fast_burn_needs_the_long_and_the_short_window(make_contract, windows):
    make_contract(availability_target=Decimal("99.9"))
    windows(sh(2026, 11, 10, 23, 0), 12, failed=100)  # an hour down, still going at 24:00
    budget = budget_for("RTC-TEL", now=sh(2026, 11, 11))
    assert budget.burn["1h"] == budget.burn["5m"] == Decimal("1000.00")
    assert budget.fast_burn and budget.slow_burn


def test_no_alert_while_the_projection_stays_above_every_tier(make_contract, windows, support_user):
    make_contract(availability_target=Decimal("99.0"), credit_tiers=[{"below": "99.0", "credit_percent": "10"}])
    windows(sh(2026, 11, 10, 23, 0), 2, failed=100)
    assert check_budgets(now=sh(2026, 11, 11)) == []
    assert mail.outbox == []
