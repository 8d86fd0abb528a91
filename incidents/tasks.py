"""Background work of the incident registry."""

from celery import shared_task
from django.core.files.storage import default_storage

from core.csv import CsvRejected

from . import services


@shared_task
def import_incidents_file(storage_name: str) -> dict:
    """Import an incidents CSV stored through Django's storage API (e.g. a large upload).

    Returns the outcome counts, or the row errors when nothing was imported."""
    with default_storage.open(storage_name, "rb") as stream:
        try:
            report = services.import_incidents_csv(stream=stream)
        except CsvRejected as exc:
            return {"ok": False, "errors": [str(error) for error in exc.errors]}
    return {"ok": True, "rows": report.rows, "outcomes": report.outcomes}
