"""What a user chose for themselves; today the language their e-mails are written in."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Preference(models.Model):
    """Saved when a signed-in user switches the language, so e-mails (sent by workers, with no
    request to read it from) reach them in the language they read the site in."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference", verbose_name=_("user")
    )
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)

    class Meta:
        verbose_name = _("preference")
        verbose_name_plural = _("preferences")

    def __str__(self):
        return f"{self.user_id} {self.language}"


def language_of(user) -> str:
    """The language ``user`` chose (the site's default when they never chose one)."""
    if getattr(user, "pk", None) is None:
        return settings.LANGUAGE_CODE
    preference = Preference.objects.filter(user_id=user.pk).values_list("language", flat=True)
    return next(iter(preference), settings.LANGUAGE_CODE)
