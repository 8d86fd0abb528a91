"""Import SLA contracts from a JSON list, validated by ``ContractSerializer``, idempotent by code+version."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from rest_framework.settings import api_settings

from core.errors import InvalidInput

from .models import SLAContract
from .serializers import ContractSerializer


class ContractImportError(InvalidInput):
    def __init__(self, errors: list[str]):
        super().__init__(errors=errors)


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def _paths(detail: Any, path: str) -> Iterator[str]:
    """DRF's nested error detail as ``path: message`` lines, e.g. ``[1].credit_tiers[0].below: …``."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            if key == api_settings.NON_FIELD_ERRORS_KEY:
                yield from _paths(value, path)
            else:
                yield from _paths(value, f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}")
    elif isinstance(detail, list):
        for value in detail:
            yield from _paths(value, path)
    else:
        yield f"{path}: {detail}"


def validate(items: Any) -> list[dict]:
    """Check every field of every item; raise ``ContractImportError`` listing all problems."""
    if not isinstance(items, list):
        raise ContractImportError([_("the file must contain a JSON list of contracts")])
    serializer = ContractSerializer(data=items, many=True)
    if not serializer.is_valid():
        detail = serializer.errors
        per_item = sorted(detail.items()) if isinstance(detail, dict) else enumerate(detail)  # by DRF version
        raise ContractImportError([line for i, item in per_item for line in _paths(item, f"[{i}]")])
    cleaned = serializer.validated_data
    errors: list[str] = []
    seen: set[tuple[str, int]] = set()
    for index, item in enumerate(cleaned):
        key = (item["code"], item["version"])
        if key in seen:
            message = _("code %(code)r version %(version)s appears twice in the file")
            errors.append(f"[{index}].version: " + message % {"code": key[0], "version": key[1]})
        seen.add(key)
    if errors:
        raise ContractImportError(errors)
    _check_overlaps(cleaned, errors)
    if errors:
        raise ContractImportError(errors)
    return cleaned


def _check_overlaps(cleaned: list[dict], errors: list[str]) -> None:
    """Versions of one code must not overlap in time (file plus database)."""
    codes = {c["code"] for c in cleaned}
    spans: dict[str, dict[int, tuple]] = {}
    for row in SLAContract.objects.filter(code__in=codes).values("code", "version", "effective_from", "effective_to"):
        spans.setdefault(row["code"], {})[row["version"]] = (row["effective_from"], row["effective_to"], None)
    for index, c in enumerate(cleaned):
        spans.setdefault(c["code"], {})[c["version"]] = (c["effective_from"], c["effective_to"], index)
    far = date.max
    for code, versions in spans.items():
        items = sorted(versions.items(), key=lambda kv: kv[1][0])
        for (v1, (_f1, t1, i1)), (v2, (f2, _t2, i2)) in zip(items, items[1:], strict=False):
            if (t1 or far) >= f2:
                index = i2 if i2 is not None else i1
                errors.append(
                    f"[{index}].effective_from: "
                    + _(
                        "%(code)s version %(v2)s starts %(start)s while version %(v1)s is still in effect "
                        "(until %(until)s); end version %(v1)s first"
                    )
                    % {"code": code, "v2": v2, "start": f2, "v1": v1, "until": t1 or _("open-ended")}
                )


SIMPLE_FIELDS = ["provider", *SLAContract.TERM_FIELDS]


def _differs(contract: SLAContract, row: dict) -> bool:
    for name in SIMPLE_FIELDS:
        current = getattr(contract, name)
        wanted = row[name]
        if isinstance(current, Decimal) and wanted is not None:
            if current != Decimal(wanted):
                return True
        elif current != wanted:
            return True
    return {s.pk for s in contract.services.all()} != {s.pk for s in row["services"]}


@transaction.atomic
def import_contracts(items) -> ImportReport:
    cleaned = validate(items)
    report = ImportReport()
    errors = []
    for index, row in enumerate(cleaned):
        label = f"{row['code']} v{row['version']}"
        contract = SLAContract.objects.filter(code=row["code"], version=row["version"]).first()
        fields = {name: row[name] for name in SIMPLE_FIELDS}
        if contract is None:
            contract = SLAContract.objects.create(code=row["code"], version=row["version"], **fields)
            contract.services.set(row["services"])
            report.created.append(label)
        elif not _differs(contract, row):
            report.unchanged.append(label)
        elif contract.is_locked():
            errors.append(
                f"[{index}]: "
                + _(
                    "%(label)s is used by a finalized evaluation and cannot be edited; "
                    "import the change as version %(next)s with its own effective dates"
                )
                % {"label": label, "next": row["version"] + 1}
            )
        else:
            for name, value in fields.items():
                setattr(contract, name, value)
            contract.save()
            contract.services.set(row["services"])
            report.updated.append(label)
    if errors:
        raise ContractImportError(errors)
    return report
