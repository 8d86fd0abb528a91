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
