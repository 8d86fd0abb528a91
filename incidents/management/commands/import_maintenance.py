from incidents.services import import_maintenance_csv

from ._csv_import import CsvImportCommand


class Command(CsvImportCommand):
    help = "Import maintenance windows from CSV (provider,service,regions,starts_at,ends_at,announced_at); all or none."
    importer = staticmethod(import_maintenance_csv)
