"""The SettlementEvent audit trail refuses UPDATE and DELETE in the database too (PostgreSQL)."""

from django.db import migrations

from core.append_only import append_only_trigger


class Migration(migrations.Migration):
    dependencies = [("settlements", "0001_initial")]

    operations = [append_only_trigger("settlements", "SettlementEvent")]
