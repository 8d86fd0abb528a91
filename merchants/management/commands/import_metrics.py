from ._import import ImportCommand


class Command(ImportCommand):
    help = "Import metrics from a CSV file (upsert; all or nothing; a bad row is reported with line and column)."
    kind = "metrics"
