from django.core.management.base import BaseCommand, CommandError

from core.csv import CsvRejected
from incidents.catalog import import_catalog


class Command(BaseCommand):
    help = (
        "Register providers, services and regions from CSV (type,code,name,provider,kind) or JSON "
        "({providers, services, regions}); all or none, idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="path to the CSV or JSON file (UTF-8)")

    def handle(self, *args, file, **options):
        try:
            with open(file, "rb") as stream:
                report = import_catalog(stream.read(), filename=file)
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc}") from exc
        except CsvRejected as exc:
            for error in exc.errors:
                self.stderr.write(str(error))
            raise CommandError(f"{file}: {len(exc.errors)} error(s); nothing was imported") from exc
        summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(report.outcomes.items())) or "nothing to do"
        self.stdout.write(f"{file}: {report.rows} entr{'y' if report.rows == 1 else 'ies'}: {summary}")
