"""Reads about merchants and who may act for them."""

from .models import Merchant


def merchant_ids_for_user(user) -> set[int]:
    """The ids of the merchants a user belongs to (empty for anonymous users)."""
    if not getattr(user, "is_authenticated", False):
        return set()
    cached = getattr(user, "_merchant_ids", None)
    if cached is None:
        cached = set(user.memberships.values_list("merchant_id", flat=True))
        user._merchant_ids = cached
    return cached


def merchants_for_user(user):
    return Merchant.objects.filter(id__in=merchant_ids_for_user(user))
