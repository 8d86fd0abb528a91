"""The credit claims' audit trail refuses UPDATE and DELETE in the database too (PostgreSQL)."""

from django.db import migrations

from core.append_only import append_only_trigger


class Migration(migrations.Migration):
    dependencies = [("sla", "0002_credit_claim_events")]

    operations = [append_only_trigger("sla", "ProviderCreditClaimEvent")]
