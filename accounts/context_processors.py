from . import roles as role_names


def roles(request):
    names = role_names.roles_of(getattr(request, "user", None))
    return {
        "user_roles": names,
        "is_support": role_names.SUPPORT in names,
        "is_finance": role_names.FINANCE in names,
        "is_merchant_user": role_names.MERCHANT in names,
    }
