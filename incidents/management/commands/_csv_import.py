"""Shared body of the CSV import commands: open the file, report per outcome or per bad row."""

from collections.abc import Callable

from django.core.management.base import BaseCommand, CommandError

from core.csv import CsvRejected
from incidents.services import ImportReport


class CsvImportCommand(BaseCommand):
    importer: Callable[..., ImportReport]  # set by each command: takes a binary stream

    def add_arguments(self, parser):
        parser.add_argument("file", help="path to the CSV file (UTF-8)")

    def handle(self, *args, file, **options):
        try:
            with open(file, "rb") as stream:
                report = type(self).importer(stream=stream)
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc}") from exc
        except CsvRejected as exc:
            for error in exc.errors:
                self.stderr.write(str(error))
            raise CommandError(f"{file}: {len(exc.errors)} error(s); nothing was imported") from exc
        summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(report.outcomes.items())) or "nothing to do"
        self.stdout.write(f"{file}: {report.rows} row(s): {summary}")
