from ._import import ImportCommand


class Command(ImportCommand):
    help = "Import merchants from a CSV file (upsert; all or nothing; a bad row is reported with line and column)."
    kind = "merchants"
