"""The ``money`` template filter: grouped, exact, in both languages, without touching form inputs."""

from decimal import Decimal

from django import forms
from django.template import Context, Template
from django.utils import translation

from core.templatetags.money import format_money


def render(source, **context):
    return Template("{% load money %}" + source).render(Context(context))


def test_groups_thousands_and_keeps_two_decimals():
    assert render("{{ v|money }}", v=Decimal("12345.6")) == "12,345.60"
    assert render("{{ v|money }}", v=Decimal("1234567.891")) == "1,234,567.89"
    assert render("{{ v|money }}", v=Decimal("999.99")) == "999.99"
    assert render("{{ v|money }}", v=Decimal("-70000")) == "-70,000.00"


def test_rounds_half_up_once_and_exactly():
    # 2.675 is 2.67499999... as a float; as a Decimal it rounds half-up to 2.68.
    assert format_money(Decimal("2.675")) == "2.68"
    assert format_money("0.005") == "0.01"
    assert format_money(Decimal("-0.001")) == "0.00"
    # Beyond float precision: every digit kept.
    assert format_money(Decimal("12345678901234567.895")) == "12,345,678,901,234,567.90"


def test_other_precisions_and_empty_values():
    assert render("{{ v|money:4 }}", v=Decimal("1234.56789")) == "1,234.5679"
    assert render("{{ v|money:0 }}", v=Decimal("14400")) == "14,400"
    assert render("{{ v|money|default:'—' }}", v=None) == "—"
    assert render("{{ v|money }}", v="not a number") == ""
    assert render("{{ v|money }}", v=3) == "3.00"


def test_chinese_groups_by_thousands_too():
    with translation.override("zh-hans"):
        assert render("{{ v|money }}", v=Decimal("6495.28")) == "6,495.28"
        assert render("{{ v|money }}", v=Decimal("10000")) == "10,000.00"


def test_form_inputs_and_plain_output_stay_ungrouped():
    class F(forms.Form):
        amount = forms.DecimalField(decimal_places=2)

    for language in ("en", "zh-hans"):
        with translation.override(language):
            html = str(F(initial={"amount": Decimal("12345.60")})["amount"])
            assert 'value="12345.60"' in html
            assert render("{{ v }}", v=Decimal("12345.60")) == "12345.60"
            form = F(data={"amount": "12345.60"})
            assert form.is_valid() and form.cleaned_data["amount"] == Decimal("12345.60")


def test_one_date_format_per_language():
    from datetime import datetime

    moment = datetime(2026, 11, 30, 14, 5)
    with translation.override("en"):
        assert render("{{ d|date:'DATETIME_FORMAT' }}", d=moment) == "30 Nov 2026 14:05"
        assert render("{{ d|date }}", d=moment.date()) == "30 Nov 2026"
    with translation.override("zh-hans"):
        assert render("{{ d|date:'DATETIME_FORMAT' }}", d=moment) == "2026年11月30日 14:05"
        assert render("{{ d|date }}", d=moment.date()) == "2026年11月30日"
