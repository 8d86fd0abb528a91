"""Backtest the loss model on this platform's own data: placebo windows and synthetic outages."""

import json

from django.core.management.base import BaseCommand, CommandError

from losses.backtest import backtest
from merchants.models import Merchant


class Command(BaseCommand):
    help = "Backtest loss model v2: [--merchant CODE] [--days N] [--json]."

    def add_arguments(self, parser):
        parser.add_argument("--merchant", help="only this merchant's sessions (its code)")
        parser.add_argument("--days", type=int, default=28, help="sessions of the last N days (default 28)")
        parser.add_argument("--json", action="store_true", help="print the figures as JSON")

    def handle(self, *args, **options):
        code, days = options["merchant"], options["days"]
        if code and not Merchant.objects.filter(code=code).exists():
            raise CommandError(f"no merchant {code}")
        if days < 1:
            raise CommandError("--days must be at least 1")
        result = backtest(merchant_code=code, days=days)
        if options["json"]:
            self.stdout.write(json.dumps(result, indent=2))
            return
        self.stdout.write(
            f"policy v{result['policy_version']}, last {days} days, {result['merchants']} merchants"
            + (f" (merchant {code})" if code else "")
        )
        for name, t in result.items():
            if not isinstance(t, dict):
                continue
            figures = ", ".join(f"{k} {v}" for k, v in t.items() if k != "windows")
            self.stdout.write(f"{name}: {t['windows']} windows; {figures}")
