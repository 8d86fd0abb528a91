"""manage.py import_contracts FILE.json: create or update SLA contract versions."""

from django.core.management.base import BaseCommand, CommandError

from core.parsers import loads
from sla.importer import ContractImportError, import_contracts


class Command(BaseCommand):
    help = "Import SLA contracts from a JSON list (idempotent by code and version)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="a JSON file holding a list of contracts")

    def handle(self, *args, file, **options):
        try:
            with open(file, "rb") as fh:
                data = fh.read()
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc}") from exc
        try:
            items = loads(data.decode("utf-8-sig"))
        except UnicodeDecodeError as exc:
            raise CommandError(f"{file} is not UTF-8 text (save it as UTF-8): {exc}") from exc
        except ValueError as exc:  # json.JSONDecodeError included; nesting too deep
            raise CommandError(f"{file} is not valid JSON: {exc}") from exc
        try:
            report = import_contracts(items)
        except ContractImportError as exc:
            raise CommandError("invalid contracts, nothing imported:\n  " + "\n  ".join(exc.errors)) from exc
        for label in report.created:
            self.stdout.write(f"created {label}")
        for label in report.updated:
            self.stdout.write(f"updated {label}")
        for label in report.unchanged:
            self.stdout.write(f"unchanged {label}")
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(report.created)} created, {len(report.updated)} updated, {len(report.unchanged)} unchanged"
            )
        )
