"""Workflow settings, each overridable in Django settings (``CLAIMS_<NAME>``)."""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings

DEFAULTS = {
    "FILING_WINDOW_DAYS": 30,  # a claim may be filed until this long after the incident resolved
    "PROPOSAL_EXPIRY_DAYS": 30,  # an unanswered proposal expires after this
    "INFO_REQUEST_EXPIRY_DAYS": 14,  # an unanswered information request expires after this
    "REMINDER_DAYS_BEFORE": 3,  # the merchant is reminded this long before expiry
    "FIRST_RESPONSE_HOURS": 24,  # staff take the claim into review (or ask) within this
    "DECISION_HOURS": 72,  # staff decide within this after submission
    "BULK_APPROVAL_THRESHOLD": Decimal("500.00"),  # default ceiling of the bulk approval form
    "MAX_DOCUMENTS_PER_CLAIM": 20,  # evidence files on one claim, both sides together
    "MAX_EVIDENCE_MB_PER_CLAIM": 50,  # their total size
}


def get(name: str):
    return getattr(settings, f"CLAIMS_{name}", DEFAULTS[name])


def days(name: str) -> timedelta:
    return timedelta(days=get(name))


def hours(name: str) -> timedelta:
    return timedelta(hours=get(name))
