from claims import notify


def notifications(request):
    """The signed-in user's unread notification count, shown beside "Notifications" in the navigation."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": notify.unread_count(user)}
