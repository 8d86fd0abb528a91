"""Merchants and the users who act for them."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Merchant(models.Model):
    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=200)
    timezone = models.CharField(_("time zone"), max_length=60, default="Asia/Shanghai")
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="merchants")

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return f"{self.name} ({self.code})"


class Membership(models.Model):
    """A user acting for a merchant. A user may belong to several merchants."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="memberships")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "merchant"], name="membership_unique")]

    def __str__(self):
        return f"{self.user} @ {self.merchant.code}"
