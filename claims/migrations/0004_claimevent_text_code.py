from django.db import migrations, models


class Migration(migrations.Migration):
    """The system's sentences become a code and parameters, written in the reader's language
    when shown; the typed text keeps its column ("message") under the field name ``note``."""

    dependencies = [("claims", "0003_claim_list_indexes")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(model_name="claimevent", name="message"),
                migrations.AddField(
                    model_name="claimevent",
                    name="note",
                    field=models.TextField(blank=True, db_column="message", verbose_name="message"),
                ),
            ],
        ),
        migrations.AddField(
            model_name="claimevent",
            name="text_code",
            field=models.CharField(blank=True, max_length=40, verbose_name="text code"),
        ),
        migrations.AddField(
            model_name="claimevent",
            name="text_params",
            field=models.JSONField(blank=True, default=dict, verbose_name="text parameters"),
        ),
    ]
