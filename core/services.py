"""Writes of the shared records."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from django.contrib.auth.models import User
from django.db import models

from .models import SettingChange

HIDDEN = "(hidden)"


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return str(value)


def snapshot(*, obj: models.Model, fields: Iterable[str]) -> dict[str, str]:
    """The stored values of ``fields`` of ``obj`` (empty for an object not saved yet)."""
    if obj.pk is None:
        return {}
    row = type(obj)._default_manager.filter(pk=obj.pk).values(*fields).first()
    return {name: _text(value) for name, value in (row or {}).items()}


def record_setting_changes(
    *,
    obj: models.Model,
    by: User | None,
    before: dict[str, str],
    fields: Iterable[str],
    secret_fields: Iterable[str] = (),
    masks: dict[str, Callable[[str], str]] | None = None,
) -> list[SettingChange]:
    """Append one ``SettingChange`` per field whose value differs from ``before``; a field in
    ``masks`` is recorded through its mask (an account number by its last digits)."""
    secret = set(secret_fields)
    masks = masks or {}
    after = snapshot(obj=obj, fields=fields)
    rows = []
    for name in fields:
        old, new = before.get(name, ""), after.get(name, "")
        if old == new:
            continue
        if name in secret:
            old, new = (HIDDEN if old else ""), HIDDEN
        elif name in masks:
            old, new = masks[name](old), masks[name](new)
        rows.append(
            SettingChange(
                model=obj._meta.label_lower,
                object_id=str(obj.pk),
                object_repr=str(obj)[:200],
                field=name,
                old_value=old,
                new_value=new,
                changed_by=by,
            )
        )
    return SettingChange.objects.bulk_create(rows)
