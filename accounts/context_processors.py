from . import roles


def roles(request):
    names = roles.roles_of(getattr(request, "user", None))
    return {
        "user_roles": names,
        "is_support": roles.SUPPORT in names,
        "is_finance": roles.FINANCE in names,
        "is_merchant_user": roles.MERCHANT in names,
    }
