"""The catalogue incidents refer to: providers, their services, regions. Imported from a CSV or
JSON file (``manage.py import_catalog FILE``) so a newcomer can register what an incidents file
names without the admin. All or nothing; upsert by natural key (provider name, service code,
region code), so the same file twice changes nothing.

CSV columns ``type,code,name,provider,kind``: ``type`` is ``provider`` (``name``, ``kind``),
``service`` (``code``, ``name``, ``provider`` = the provider's name) or ``region`` (``code``,
``name``). JSON: ``{"providers": [{"name", "kind"}], "services": [{"code", "name", "provider"}],
"regions": [{"code", "name"}]}``. A service may name a provider of the same file.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from core.csv import CsvReader, CsvRejected
from core.errors import RowError

from .models import Provider, Region, Service

KINDS = {value for value, _label in Provider.Kind.choices}


@dataclass
class CatalogReport:
    outcomes: Counter = field(default_factory=Counter)
    rows: int = 0


@dataclass
class _Entry:
    where: tuple  # (line or index, prefix) for errors
    type: str
    code: str = ""
    name: str = ""
    provider: str = ""
    kind: str = ""


def _csv_entries(data: bytes) -> list[_Entry]:
    entries = []
    with CsvReader(data, columns=["type", "name"], optional=["code", "provider", "kind"]) as reader:
        for line, (kind_of_row, name, code, provider, kind) in reader.rows():
            values = [v.strip() for v in (code, name, provider, kind)]
            entries.append(_Entry((line, None), kind_of_row.strip().lower(), *values))
    return entries


def _json_entries(data: bytes) -> list[_Entry]:
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise CsvRejected([RowError(1, "-", _("Not valid JSON: %(e)s") % {"e": exc})]) from None
    if not isinstance(doc, dict):
        raise CsvRejected([RowError(1, "-", _("Expected an object with providers, services and regions."))])
    entries = []
    for key, kind_of_row in (("providers", "provider"), ("services", "service"), ("regions", "region")):
        items = doc.get(key) or []
        if not isinstance(items, list):
            raise CsvRejected([RowError(1, key, _("Expected a list."))])
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise CsvRejected([RowError(1, f"{key}[{i}]", _("Expected an object."))])
            value = {k: str(item.get(k) or "").strip() for k in ("code", "name", "provider", "kind")}
            entries.append(_Entry((i, key), kind_of_row, **value))
    return entries


def _error(entry: _Entry, column: str, message: str) -> RowError:
    where, prefix = entry.where
    if prefix is None:
        return RowError(where, column, message)
    return RowError(1, f"{prefix}[{where}].{column}", message)


def _validate(entries: list[_Entry]) -> list[RowError]:
    errors = []
    providers = {e.name for e in entries if e.type == "provider"} | set(Provider.objects.values_list("name", flat=True))
    for e in entries:
        if e.type not in ("provider", "service", "region"):
            errors.append(_error(e, "type", _("Use provider, service or region.")))
            continue
        if not e.name:
            errors.append(_error(e, "name", _("This field is required.")))
        if e.type == "provider":
            if e.kind and e.kind not in KINDS:
                errors.append(_error(e, "kind", _("Use one of: %(k)s.") % {"k": ", ".join(sorted(KINDS))}))
            continue
        if not e.code:
            errors.append(_error(e, "code", _("This field is required.")))
        elif slugify(e.code) != e.code.lower() or len(e.code) > 60:
            errors.append(_error(e, "code", _("Use letters, digits, - and _ only.")))
        if e.type == "service" and e.provider not in providers:
            errors.append(_error(e, "provider", _("Unknown provider “%(p)s”: add it to the file.") % {"p": e.provider}))
    return errors


def import_catalog(data: bytes, *, filename: str = "") -> CatalogReport:
    """Validate every entry, then upsert them all in one transaction (or raise CsvRejected)."""
    is_json = filename.lower().endswith(".json") or data.lstrip()[:1] in (b"{", b"[")
    entries = _json_entries(data) if is_json else _csv_entries(data)
    errors = _validate(entries)
    if errors:
        raise CsvRejected(errors)
    report = CatalogReport(rows=len(entries))
    with transaction.atomic():
        for e in sorted(entries, key=lambda e: ("provider", "region", "service").index(e.type)):
            if e.type == "provider":
                _, outcome = _upsert(Provider, {"name": e.name}, {"kind": e.kind or Provider.Kind.OTHER})
            elif e.type == "region":
                _, outcome = _upsert(Region, {"code": e.code}, {"name": e.name})
            else:
                provider = Provider.objects.get(name=e.provider)
                _, outcome = _upsert(Service, {"code": e.code}, {"name": e.name, "provider": provider})
            report.outcomes[f"{e.type} {outcome}"] += 1
    return report


def _upsert(model, key: dict, values: dict):
    obj = model.objects.filter(**key).first()
    if obj is None:
        return model.objects.create(**key, **values), "created"
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    if not changed:
        return obj, "unchanged"
    for name in changed:
        setattr(obj, name, values[name])
    obj.save(update_fields=changed)
    return obj, "updated"
