"""manage.py sla_evaluate --contract CODE --period YYYY-MM [--json] [--save]."""

import json

from django.core.management.base import BaseCommand, CommandError

from sla import evaluation as ev
from sla import selectors, services


class Command(BaseCommand):
    help = "Evaluate an SLA contract for a calendar month (read-only unless --save)."

    def add_arguments(self, parser):
        parser.add_argument("--contract", required=True, help="contract code")
        parser.add_argument("--period", required=True, help="month, YYYY-MM, in the contract's time zone")
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument("--details", action="store_true", help="with --json: add incidents and maintenance")
        parser.add_argument("--save", action="store_true", help="also store the evaluation snapshot")

    def handle(self, *args, contract, period, **options):
        try:
            ev.parse_period(period)
            computed = selectors.compute_one(code=contract, period=period)
        except (ValueError, selectors.ContractNotFound) as exc:
            raise CommandError(str(exc)) from exc
        if options["save"]:
            services.recompute(pairs=[(contract, period)])
        data = selectors.result_json(computed=computed, details=options["details"])
        if options["json"]:
            self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
            return
        w = self.stdout.write
        w(f"{data['contract']} v{data['version']} ({data['provider']}) {data['period']} [{data['timezone']}]")
        w(f"  eligible minutes    {data['eligible_minutes']} (excluded {data['excluded_minutes']})")
        w(f"  downtime minutes    {data['downtime_minutes']} (weighted)")
        w(f"  availability        {data['availability_percent']} % (target {data['availability_target']} %)")
        w(f"  method              {data['availability_method']}")
        for run in data.get("runs", []):
            w(f"  down run            {run['start']} {run['minutes']} min (counted {run['counted_minutes']})")
        for q in data.get("quality", []):
            state = f"breached (+{q['credit_percent']} %)" if q["breached"] else "met"
            w(f"  quality             {q['metric']}: {q['compliance_percent']} % compliant, {state}")
        w(f"  tier credit         {data['tier_credit_percent']} %")
        for b in data["recovery_breaches"]:
            extra = f"(+{b['credit_percent']} %)"
            w(f"  recovery breach     {b['incident']}: {b['minutes']} min > {b['max_minutes']} {extra}")
        for b in data["response_breaches"]:
            w(f"  response breach     {b['incident']}: {b['minutes']} min > {b['max_minutes']}")
        w(f"  credit              {data['credit_percent']} % = {data['credit_amount']} {data['currency']}")
        w(f"  claim deadline      {data['claim_deadline']}")
        if data["provisional"]:
            w("  PROVISIONAL (month not over or an incident still open)")
