"""Reads about merchants and who may act for them, and the metrics table's partitions."""

from datetime import date, datetime

from django.contrib.auth.models import User
from django.db import connection
from django.db.models import QuerySet

from accounts.types import AnyUser

from .models import Merchant

# Day partitions of merchants_sessionminute are named <prefix>YYYYMMDD (UTC day); the default
# partition catches any minute whose day has none.
METRIC_PARTITION_PREFIX = "merchants_sessionminute_p"
METRIC_DEFAULT_PARTITION = "merchants_sessionminute_default"

CACHE = "_merchant_ids"


def merchant_ids_for_user(*, user: AnyUser) -> set[int]:
    """The ids of the merchants a user belongs to (empty for anonymous users)."""
    if not isinstance(user, User) or not user.is_authenticated:
        return set()
    # Cached on the user object: one request asks several times.
    cached: set[int] | None = getattr(user, CACHE, None)
    if cached is None:
        cached = set(user.memberships.values_list("merchant_id", flat=True))
        setattr(user, CACHE, cached)
    return cached


def merchants_for_user(*, user: AnyUser) -> QuerySet[Merchant]:
    return Merchant.objects.filter(id__in=merchant_ids_for_user(user=user))


def is_merchant_admin(*, user: AnyUser, merchant_id: int) -> bool:
    """Whether ``user`` is an active merchant user and an administrator of ``merchant_id``
    (who may change its payout details)."""
    from accounts import roles

    if not isinstance(user, User) or not user.is_active or not roles.is_merchant_user(user):
        return False
    return user.memberships.filter(merchant_id=merchant_id, is_admin=True).exists()


def payout_history(*, merchant: Merchant, limit: int = 10) -> QuerySet:
    """The latest changes of the merchant's payout details (who, when, old → new, masked)."""
    from core.models import SettingChange

    from .models import PAYOUT_FIELDS

    return SettingChange.objects.filter(
        model=merchant._meta.label_lower, object_id=str(merchant.pk), field__in=PAYOUT_FIELDS
    ).select_related("changed_by")[:limit]


def metric_partitions() -> list[tuple[str, date]]:
    """The day partitions of the per-minute metrics (name, UTC day), oldest first; empty
    on a database without partitioning (SQLite)."""
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = 'merchants_sessionminute'::regclass AND c.relname LIKE %s",
            [METRIC_PARTITION_PREFIX + "%"],
        )
        names = [r[0] for r in cursor.fetchall()]
    days = []
    for name in names:
        try:
            days.append((name, datetime.strptime(name.removeprefix(METRIC_PARTITION_PREFIX), "%Y%m%d").date()))
        except ValueError:  # not one of ours
            continue
    return sorted(days, key=lambda item: item[1])


def metric_partition_name(*, day: date) -> str:
    return f"{METRIC_PARTITION_PREFIX}{day:%Y%m%d}"
