from django.db import migrations


def create_default_policy(apps, schema_editor):
    CompensationPolicy = apps.get_model("losses", "CompensationPolicy")
    if not CompensationPolicy.objects.exists():
        CompensationPolicy.objects.create(version=1, name="Default loss policy", is_active=True)


class Migration(migrations.Migration):
    dependencies = [("losses", "0001_initial")]

    operations = [migrations.RunPython(create_default_policy, migrations.RunPython.noop)]
