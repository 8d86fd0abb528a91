"""Page forms of the batch actions. Each cleans to the same keys as the API's serializer, so one
action table (``settlements.actions``) serves both."""

from django import forms
from django.utils.translation import gettext_lazy as _


class MessageForm(forms.Form):
    message = forms.CharField(label=_("Note"), required=False, max_length=500)


class AddForm(MessageForm):
    claim = forms.TypedMultipleChoiceField(label=_("Claims"), coerce=int, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any claim id may be posted; the service checks eligibility under lock.
        self.fields["claim"].valid_value = lambda value: str(value).isdigit()

    def clean(self):
        data = super().clean()
        data["claim_ids"] = data.pop("claim", None) or None
        return data


class RemoveForm(forms.Form):
    item = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Reason"), max_length=500)

    def clean(self):
        data = super().clean()
        data["message"] = data.pop("reason", "")
        return data


class LedgerFilterForm(forms.Form):
    """The ledger's filters, the same for the page, its CSV/XLSX download and the API."""

    # A date input takes ISO dates only, whatever the page's language formats dates as.
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    end = forms.DateField(label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    status = forms.ChoiceField(
        label=_("Payment status"),
        required=False,
        choices=[("", _("All")), ("unpaid", _("Not paid yet")), ("failed", _("Payment failed")), ("paid", _("Paid"))],
    )
    merchant = forms.CharField(label=_("Merchant code"), required=False, max_length=64)
    currency = forms.CharField(label=_("Currency"), required=False, max_length=3)

    def clean_merchant(self):
        from merchants.models import Merchant

        code = self.cleaned_data["merchant"].strip()
        if not code:
            return None
        merchant = Merchant.objects.filter(code=code).only("pk").first()
        if merchant is None:
            raise forms.ValidationError(_("No merchant has the code %(code)s."), params={"code": code})
        return merchant.pk

    def clean_currency(self):
        value = self.cleaned_data["currency"].strip().upper()
        if value and not (len(value) == 3 and value.isalpha()):
            raise forms.ValidationError(_("A currency is three letters, such as CNY."))
        return value

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", _("The range ends before it starts."))
        return data

    def filters(self) -> dict:
        """The keyword arguments of ``exports.ledger_claims`` (after ``is_valid``)."""
        d = self.cleaned_data
        return {"status": d["status"], "merchant_id": d["merchant"], "currency": d["currency"]}
