from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.views.i18n import set_language as django_set_language

from . import roles


def _first_url(*names):
    for name in names:
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return reverse("admin:index")


@login_required
def home(request):
    """Send each role to its own start page."""
    user_roles = roles.roles_of(request.user)
    if roles.SUPPORT in user_roles:
        return redirect(_first_url("claims_console:queue", "incidents:list"))
    if roles.FINANCE in user_roles:
        return redirect(_first_url("finance:home", "incidents:list"))
    if roles.MERCHANT in user_roles:
        return redirect(_first_url("portal:home"))
    return redirect("admin:index")


def set_language(request):
    """Django's language switch, which also remembers a signed-in user's choice for e-mails."""
    response = django_set_language(request)
    language = request.POST.get("language")
    if (
        request.method == "POST"
        and request.user.is_authenticated
        and language in {code for code, _name in settings.LANGUAGES}
    ):
        from .models import Preference

        Preference.objects.update_or_create(user=request.user, defaults={"language": language})
    return response
