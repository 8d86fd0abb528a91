"""DRF permission classes built on the roles."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from . import roles


class IsSupport(BasePermission):
    message = "Only support staff may do this."

    def has_permission(self, request, view):
        return roles.is_support(request.user)


class IsFinance(BasePermission):
    message = "Only finance staff may do this."

    def has_permission(self, request, view):
        return roles.is_finance(request.user)


class IsStaffRole(BasePermission):
    message = "Only support or finance staff may do this."

    def has_permission(self, request, view):
        return roles.is_staff_role(request.user)


class ReadOnlyOrSupport(BasePermission):
    """Any signed-in user may read; only support staff may write."""

    message = "Only support staff may change this."

    def has_permission(self, request, view):
        if not request.user.is_authenticated:
            return False
        return request.method in SAFE_METHODS or roles.is_support(request.user)
