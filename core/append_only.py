"""Append-only audit trails: rows are inserted once and never updated or deleted, neither
one by one nor in bulk. Used by the claim and settlement audit trails."""

from django.core.exceptions import ValidationError
from django.db import models


def _refuse(model):
    raise ValidationError(
        f"{str(model._meta.verbose_name_plural).capitalize()} are append-only: never changed or deleted."
    )


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        _refuse(self.model)

    def delete(self):
        _refuse(self.model)


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            _refuse(type(self))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        _refuse(type(self))


# --- The same rule in the database ----------------------------------------------------------
# Python refuses changes through the ORM; a trigger also refuses raw SQL, a bulk tool or a
# cascade from a deleted parent row. PostgreSQL only: the SQLite demo keeps the Python guard.
# TRUNCATE stays possible (no statement trigger): test databases are emptied that way.

_FUNCTION = """
CREATE OR REPLACE FUNCTION core_append_only_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'restrict_violation';
END
$$;
"""


def _trigger_name(table: str) -> str:
    return f"{table}_append_only"


def append_only_trigger(app_label: str, model_name: str):
    """A migration operation adding a BEFORE UPDATE OR DELETE trigger that refuses both."""
    from django.db import migrations

    def forward(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        table = apps.get_model(app_label, model_name)._meta.db_table
        schema_editor.execute(_FUNCTION, params=None)  # no placeholders: RAISE uses % itself
        schema_editor.execute(
            f'CREATE TRIGGER "{_trigger_name(table)}" BEFORE UPDATE OR DELETE ON "{table}" '
            "FOR EACH ROW EXECUTE FUNCTION core_append_only_refuse()"
        )

    def backward(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        table = apps.get_model(app_label, model_name)._meta.db_table
        schema_editor.execute(f'DROP TRIGGER IF EXISTS "{_trigger_name(table)}" ON "{table}"')

    return migrations.RunPython(forward, backward, elidable=False)
