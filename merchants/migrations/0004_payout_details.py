from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("merchants", "0003_session_minute_partitioned_by_day")]

    operations = [
        migrations.AddField(
            model_name="merchant",
            name="payout_account_name",
            field=models.CharField(blank=True, max_length=200, verbose_name="payout account holder"),
        ),
        migrations.AddField(
            model_name="merchant",
            name="payout_bank",
            field=models.CharField(blank=True, max_length=200, verbose_name="payout bank"),
        ),
        migrations.AddField(
            model_name="merchant",
            name="payout_account_number",
            field=models.CharField(blank=True, max_length=34, verbose_name="payout account number"),
        ),
        migrations.AddField(
            model_name="membership",
            name="is_admin",
            field=models.BooleanField(
                default=False,
                help_text="May change the merchant's payout details.",
                verbose_name="merchant administrator",
            ),
        ),
    ]
