"""Import SLA contracts from a JSON list, validated field by field, idempotent by code+version."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import transaction
from django.utils.translation import gettext as _

from incidents.models import Impact, Provider, Service

from .models import SLAContract

REQUIRED = (
    "code",
    "provider",
    "services",
    "currency",
    "monthly_fee",
    "effective_from",
    "availability_target",
    "credit_tiers",
)
KNOWN = {
    *REQUIRED,
    "version",
    "timezone",
    "effective_to",
    "partial_outage_weight",
    "degraded_weight",
    "maintenance_notice_hours",
    "credit_cap_percent",
    "recovery_targets",
    "first_response_minutes",
    "first_response_credit_percent",
    "claim_window_days",
    "min_downtime_minutes",
    "min_credit_amount",
    "amendment_reason",
}


MAX_INTEGER = 2**31 - 1  # the database's integer columns (version, hours, days, minutes)


def _integer_digits(name: str) -> int:
    """Digits before the point that the contract's column for ``name`` holds (12 for JSON values)."""
    try:
        column = SLAContract._meta.get_field(name)
    except Exception:  # noqa: BLE001 (a value inside credit_tiers / recovery_targets)
        return 12
    if getattr(column, "max_digits", None) is None:
        return 12
    return column.max_digits - column.decimal_places


class ContractImportError(ValueError):
    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("\n".join(errors))


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


class _Checker:
    def __init__(self, index: int, raw: dict, errors: list[str]):
        self.index, self.raw, self.errors = index, raw, errors

    def error(self, name: str, message: str):
        self.errors.append(f"[{self.index}].{name}: {message}")

    def decimal(self, name, default=None, low=None, high=None, places=4, value=None, label=None):
        label = label or name
        value = self.raw.get(name, default) if value is None else value
        if value is None:
            if default is None:
                self.error(label, _("is required"))
            return None
        if isinstance(value, float | bool):
            self.error(label, _('must be a decimal string like "99.95", got %(value)r') % {"value": value})
            return None
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            self.error(label, _("is not a decimal number: %(value)r") % {"value": value})
            return None
        if not number.is_finite():
            self.error(label, _("is not a decimal number: %(value)r") % {"value": value})
            return None
        if number.adjusted() >= _integer_digits(name):
            # "1e309" or twenty digits: a valid Decimal that the database column cannot hold.
            self.error(label, _("is too large: %(value)s") % {"value": value})
            return None
        if number.as_tuple().exponent < -places:
            self.error(
                label, _("has more than %(places)s decimal places: %(value)s") % {"places": places, "value": value}
            )
        if low is not None and number < low:
            self.error(label, _("must be at least %(low)s, got %(value)s") % {"low": low, "value": value})
        if high is not None and number > high:
            self.error(label, _("must be at most %(high)s, got %(value)s") % {"high": high, "value": value})
        return number

    def integer(self, name, default=None, low=0, value=None, label=None, nullable=False):
        label = label or name
        value = self.raw.get(name, default) if value is None else value
        if value is None:
            if not nullable:
                self.error(label, _("is required"))
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(label, _("must be a whole number, got %(value)r") % {"value": value})
            return None
        if value < low:
            self.error(label, _("must be at least %(low)s, got %(value)s") % {"low": low, "value": value})
        if value > MAX_INTEGER:
            self.error(label, _("must be at most %(high)s, got %(value)s") % {"high": MAX_INTEGER, "value": value})
            return None
        return value

    def day(self, name, required=True):
        value = self.raw.get(name)
        if value is None:
            if required:
                self.error(name, _("is required (YYYY-MM-DD)"))
            return None
        try:
            return date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else _raise()
        except ValueError:
            self.error(name, _("must be a date YYYY-MM-DD, got %(value)r") % {"value": value})
            return None


def _raise():
    raise ValueError


def validate(items, providers: dict[str, Provider], services: dict[str, Service]) -> list[dict]:
    """Check every field of every item; raise ``ContractImportError`` listing all problems."""
    errors: list[str] = []
    if not isinstance(items, list):
        raise ContractImportError([_("the file must contain a JSON list of contracts")])
    cleaned, seen = [], set()
    for index, raw in enumerate(items):
        if not isinstance(raw, dict):
            errors.append(f"[{index}]: " + _("must be an object"))
            continue
        c = _Checker(index, raw, errors)
        for name in sorted(set(raw) - KNOWN):
            c.error(name, _("unknown field"))
        for name in REQUIRED:
            if raw.get(name) in (None, ""):
                c.error(name, _("is required"))
        out: dict = {}
        code = raw.get("code")
        if code is not None and (not isinstance(code, str) or not code or len(code) > 60):
            c.error("code", _("must be a non-empty string of at most 60 characters"))
        out["code"] = code
        out["version"] = c.integer("version", default=1, low=1)
        provider = None
        if isinstance(raw.get("provider"), str):
            provider = providers.get(raw["provider"])
            if provider is None:
                c.error("provider", _("unknown provider %(name)r") % {"name": raw["provider"]})
        elif "provider" in raw:
            c.error("provider", _("must be the provider's name"))
        out["provider"] = provider
        codes = raw.get("services")
        out["services"] = []
        if codes is not None:
            if not isinstance(codes, list) or not codes:
                c.error("services", _("must be a non-empty list of service codes"))
            else:
                for i, s in enumerate(codes):
                    service = services.get(s) if isinstance(s, str) else None
                    if service is None:
                        c.error(f"services[{i}]", _("unknown service %(code)r") % {"code": s})
                    elif provider is not None and service.provider_id != provider.pk:
                        c.error(
                            f"services[{i}]",
                            _("service %(code)r belongs to %(owner)s, not %(provider)s")
                            % {"code": s, "owner": service.provider, "provider": provider},
                        )
                    else:
                        out["services"].append(service)
        currency = raw.get("currency")
        if currency is not None and not (isinstance(currency, str) and len(currency) == 3 and currency.isupper()):
            c.error("currency", _("must be a 3-letter ISO code like CNY, got %(value)r") % {"value": currency})
        out["currency"] = currency
        out["monthly_fee"] = c.decimal("monthly_fee", low=Decimal("0"), places=2)
        tz = raw.get("timezone", "Asia/Shanghai")
        try:
            ZoneInfo(tz if isinstance(tz, str) else "")
        except (ZoneInfoNotFoundError, ValueError):
            c.error("timezone", _("unknown time zone %(value)r") % {"value": tz})
        out["timezone"] = tz
        out["effective_from"] = c.day("effective_from")
        out["effective_to"] = c.day("effective_to", required=False)
        if out["effective_from"] and out["effective_to"] and out["effective_to"] < out["effective_from"]:
            c.error("effective_to", _("is before effective_from"))
        out["availability_target"] = c.decimal("availability_target", low=Decimal(0), high=Decimal(100))
        out["partial_outage_weight"] = c.decimal("partial_outage_weight", "0.5", Decimal(0), Decimal(1))
        out["degraded_weight"] = c.decimal("degraded_weight", "0", Decimal(0), Decimal(1))
        out["maintenance_notice_hours"] = c.integer("maintenance_notice_hours", default=0)
        out["credit_cap_percent"] = c.decimal("credit_cap_percent", "100", Decimal(0), Decimal(100), places=2)
        out["first_response_minutes"] = c.integer("first_response_minutes", nullable=True)
        out["first_response_credit_percent"] = c.decimal(
            "first_response_credit_percent", "0", Decimal(0), Decimal(100), places=2
        )
        out["claim_window_days"] = c.integer("claim_window_days", default=30)
        out["min_downtime_minutes"] = c.integer("min_downtime_minutes", default=0)
        out["min_credit_amount"] = c.decimal("min_credit_amount", "0", Decimal(0), places=2)
        out["amendment_reason"] = raw.get("amendment_reason", "") or ""

        tiers = raw.get("credit_tiers")
        out["credit_tiers"] = []
        if tiers is not None:
            if not isinstance(tiers, list):
                c.error("credit_tiers", _("must be a list"))
            else:
                for i, tier in enumerate(tiers):
                    label = f"credit_tiers[{i}]"
                    if not isinstance(tier, dict) or set(tier) != {"below", "credit_percent"}:
                        c.error(label, _('must be {"below": ..., "credit_percent": ...}'))
                        continue
                    below = c.decimal(
                        "below", value=tier["below"], low=Decimal(0), high=Decimal(100), label=f"{label}.below"
                    )
                    pct = c.decimal(
                        "credit_percent",
                        value=tier["credit_percent"],
                        low=Decimal(0),
                        high=Decimal(100),
                        places=2,
                        label=f"{label}.credit_percent",
                    )
                    if below is not None and pct is not None:
                        out["credit_tiers"].append({"below": str(below), "credit_percent": str(pct)})
                belows = [t["below"] for t in out["credit_tiers"]]
                if len(set(belows)) != len(belows):
                    c.error("credit_tiers", _("two tiers have the same 'below'"))
        targets = raw.get("recovery_targets", [])
        out["recovery_targets"] = []
        if not isinstance(targets, list):
            c.error("recovery_targets", _("must be a list"))
        else:
            for i, target in enumerate(targets):
                label = f"recovery_targets[{i}]"
                if not isinstance(target, dict) or set(target) != {"impact", "max_minutes", "credit_percent"}:
                    c.error(label, _('must be {"impact": ..., "max_minutes": ..., "credit_percent": ...}'))
                    continue
                if target["impact"] not in Impact.values:
                    c.error(
                        f"{label}.impact",
                        _("must be one of %(choices)s, got %(value)r")
                        % {"choices": ", ".join(Impact.values), "value": target["impact"]},
                    )
                minutes = c.integer("max_minutes", value=target["max_minutes"], low=1, label=f"{label}.max_minutes")
                pct = c.decimal(
                    "credit_percent",
                    value=target["credit_percent"],
                    low=Decimal(0),
                    high=Decimal(100),
                    places=2,
                    label=f"{label}.credit_percent",
                )
                if minutes is not None and pct is not None:
                    out["recovery_targets"].append(
                        {"impact": target["impact"], "max_minutes": minutes, "credit_percent": str(pct)}
                    )
            impacts = [t["impact"] for t in out["recovery_targets"]]
            if len(set(impacts)) != len(impacts):
                c.error("recovery_targets", _("two targets for the same impact"))
        key = (out["code"], out["version"])
        if key in seen:
            c.error(
                "version",
                _("code %(code)r version %(version)s appears twice in the file")
                % {"code": out["code"], "version": out["version"]},
            )
        seen.add(key)
        cleaned.append(out)
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
    providers = {p.name: p for p in Provider.objects.all()}
    services = {s.code: s for s in Service.objects.select_related("provider")}
    cleaned = validate(items, providers, services)
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
