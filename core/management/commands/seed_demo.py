"""Load deterministic, realistic demo data for every app, and print the demo logins.

Each app seeds its own part in ``<app>/demo.py`` (a ``seed(stdout)`` function); this
command runs them in dependency order inside one transaction. Running it again
duplicates nothing: every ``seed`` is idempotent.
"""

import logging

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand
from django.db import transaction
from django.urls import reverse

from accounts import demo as accounts_demo
from claims import demo as claims_demo
from incidents import demo as incidents_demo
from losses import demo as loss_demo
from merchants import demo as merchants_demo
from settlements import demo as finance_demo
from sla import demo as sla_demo
from telemetry import demo as telemetry_demo

QUIET_LOGGERS = ("celery", "weasyprint", "fontTools")


class Command(BaseCommand):
    help = "Load deterministic demo data (idempotent) and print the demo logins."

    def handle(self, *args, **options):
        # The eager Celery tasks and WeasyPrint log every step at INFO: keep the output to the
        # one-line summaries of each app.
        for name in QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
        with transaction.atomic():
            accounts_demo.seed(self.stdout)
            incidents_demo.seed(self.stdout)
            telemetry_demo.seed(self.stdout)
            sla_demo.seed(self.stdout)
            merchants_demo.seed(self.stdout)
            loss_demo.seed(self.stdout)
            claims_demo.seed(self.stdout)
            finance_demo.seed(self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        # SITE_URL is where the demo's server listens (the Makefile sets it from DEMO_PORT).
        login = settings.SITE_URL + reverse("login")
        self.stdout.write(f"Demo logins at {login} (password for all: {accounts_demo.PASSWORD}):")
        users = User.objects.filter(groups__isnull=False).prefetch_related("groups").distinct().order_by("username")
        for user in users:
            roles = ", ".join(sorted(g.name for g in user.groups.all()))
            self.stdout.write(f"  {user.username:<20} {roles}")
