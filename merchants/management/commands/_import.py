"""Shared body of the import_merchants / import_sessions / import_metrics commands."""

import time

from django.core.management.base import BaseCommand, CommandError

from core.csv import CsvRejected
from merchants.services import import_csv


class ImportCommand(BaseCommand):
    kind = ""

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV file with a header row")

    def handle(self, *args, **options):
        started = time.monotonic()
        try:
            result = import_csv(kind=self.kind, source=options["file"])
        except CsvRejected as exc:
            raise CommandError(f"{options['file']}: {exc}; nothing was imported") from exc
        except OSError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.kind}: {result.rows} rows, {result.created} created, {result.updated} updated, "
                f"{result.unchanged} unchanged ({time.monotonic() - started:.1f}s)"
            )
        )
