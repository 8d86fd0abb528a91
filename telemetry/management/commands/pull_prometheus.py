import json

from django.core.management.base import BaseCommand, CommandError

from telemetry.models import PrometheusSource
from telemetry.prometheus import pull_all, pull_source


class Command(BaseCommand):
    help = "Pull telemetry windows from Prometheus now (the beat task does this every minute)."

    def add_arguments(self, parser):
        parser.add_argument("--source", help="only this Prometheus source (by name)")

    def handle(self, *args, source=None, **options):
        if source:
            found = PrometheusSource.objects.filter(name=source).first()
            if found is None:
                raise CommandError(f"no Prometheus source named {source!r}")
            results = [r for r in [pull_source(source_id=found.pk)] if r is not None]
        else:
            results = pull_all()
        self.stdout.write(json.dumps({r.source: r.as_dict() for r in results}, indent=2))
        if any(r.error for r in results):
            raise CommandError("; ".join(r.error for r in results if r.error))
