"""Print what each merchant lost in one incident (read-only unless --save)."""

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from incidents.models import Incident
from losses.engine import assess_incident, estimate_incident
from losses.models import CompensationPolicy


class Command(BaseCommand):
    help = (
        "Estimate merchant losses of an incident: --incident SOURCE:EXTERNAL_ID [--json] [--save] [--policy-version N]."
    )

    def add_arguments(self, parser):
        parser.add_argument("--incident", required=True, help="SOURCE:EXTERNAL_ID")
        parser.add_argument("--json", action="store_true", help="print a JSON list, one object per merchant")
        parser.add_argument("--save", action="store_true", help="also store the assessments (assess_incident)")
        parser.add_argument(
            "--policy-version", type=int, default=None, help="compute under this policy version (default: active)"
        )

    def handle(self, *args, **options):
        source, sep, external_id = options["incident"].partition(":")
        if not sep:
            raise CommandError("--incident must be SOURCE:EXTERNAL_ID")
        incident = Incident.objects.filter(source=source, external_id=external_id).first()
        if incident is None:
            raise CommandError(f"no incident {options['incident']}")
        version = options["policy_version"]
        if version is not None and not CompensationPolicy.objects.filter(version=version).exists():
            raise CommandError(f"no policy version {version}")
        now = timezone.now()  # one clock: what is printed is what was stored
        if options["save"]:
            assess_incident(incident, now=now, policy_version=version)
        result = estimate_incident(incident, now=now, policy_version=version)
        if options["json"]:
            self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))
            return
        for m in result:
            n = len(m["sessions"])
            sessions = "1 session" if n == 1 else f"{n} sessions"  # the command speaks English only
            self.stdout.write(
                f"{m['merchant']}: {sessions}, responsibility {m['responsibility_percent']}%, "
                f"compensation {m['compensation']} {m['currency']} (before pool {m['compensation_before_pool']})"
                + (f" [{', '.join(m['flags'])}]" if m["flags"] else "")
            )
        if not result:
            self.stdout.write("No live session was hit.")
