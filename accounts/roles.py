"""The three roles of the system, as Django groups.

``merchant`` users act for the merchants they are members of; ``support`` staff
adjudicate claims and run incidents; ``finance`` staff run settlements. Support and
finance are separate: neither implies the other.
"""

MERCHANT = "merchant"
SUPPORT = "support"
FINANCE = "finance"
ALL_ROLES = (MERCHANT, SUPPORT, FINANCE)


def roles_of(user) -> frozenset[str]:
    """The role names of a user, cached on the user object for the request."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_role_names", None)
    if cached is None:
        cached = frozenset(user.groups.filter(name__in=ALL_ROLES).values_list("name", flat=True))
        user._role_names = cached
    return cached


def is_support(user) -> bool:
    return SUPPORT in roles_of(user)


def is_finance(user) -> bool:
    return FINANCE in roles_of(user)


def is_merchant_user(user) -> bool:
    return MERCHANT in roles_of(user)


def is_staff_role(user) -> bool:
    """Support or finance: the platform's own people."""
    return bool(roles_of(user) & {SUPPORT, FINANCE})
