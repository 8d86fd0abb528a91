"""Admin helpers shared by every app."""


class ReadOnlyMixin:
    """No add, change or delete: for model admins and inlines alike."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
