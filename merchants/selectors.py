"""Reads about merchants and who may act for them."""

from django.contrib.auth.models import User
from django.db.models import QuerySet

from accounts.types import AnyUser

from .models import Merchant

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
