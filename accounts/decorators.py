"""View decorators for the server-rendered pages."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from . import roles


def role_required(*allowed: str):
    """Let a signed-in user through only if they hold one of ``allowed`` roles."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not roles.roles_of(request.user) & set(allowed):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


support_required = role_required(roles.SUPPORT)
finance_required = role_required(roles.FINANCE)
staff_required = role_required(roles.SUPPORT, roles.FINANCE)
merchant_required = role_required(roles.MERCHANT)
