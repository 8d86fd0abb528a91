from django.contrib import admin

from .models import Membership, Merchant


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "timezone", "currency"]
    search_fields = ["code", "name"]
    inlines = [MembershipInline]
