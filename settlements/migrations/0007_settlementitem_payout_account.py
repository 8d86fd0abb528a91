from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("settlements", "0006_settlementevent_text_code")]

    operations = [
        migrations.AddField(
            model_name="settlementitem",
            name="payout_account_name",
            field=models.CharField(blank=True, max_length=200, verbose_name="payout account holder"),
        ),
        migrations.AddField(
            model_name="settlementitem",
            name="payout_bank",
            field=models.CharField(blank=True, max_length=200, verbose_name="payout bank"),
        ),
        migrations.AddField(
            model_name="settlementitem",
            name="payout_account_number",
            field=models.CharField(blank=True, max_length=34, verbose_name="payout account number"),
        ),
    ]
