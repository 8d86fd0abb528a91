from incidents.services import import_incidents_csv

from ._csv_import import CsvImportCommand


class Command(CsvImportCommand):
    help = (
        "Import incidents from CSV (source,external_id,provider,service,regions,impact,cause,title,"
        "started_at,detected_at,acknowledged_at,resolved_at). All rows or none."
    )
    importer = staticmethod(import_incidents_csv)
