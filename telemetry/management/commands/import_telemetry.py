import time

from django.core.management.base import BaseCommand, CommandError

from telemetry.services import TelemetryInputError, import_csv


class Command(BaseCommand):
    help = (
        "Import telemetry windows from a CSV file (upsert by service, region, window_start; "
        "all or nothing; a bad row is reported with line and column)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV with the header service,region,window_start,window_minutes,…")

    def handle(self, *args, **options):
        started = time.monotonic()
        try:
            result = import_csv(path_or_file=options["file"])
        except TelemetryInputError as exc:
            raise CommandError(f"{options['file']}: {exc}; nothing was imported") from exc
        except OSError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"telemetry: {result.rows} rows, {result.created} created, {result.updated} updated, "
                f"{result.unchanged} unchanged ({time.monotonic() - started:.1f}s)"
            )
        )
