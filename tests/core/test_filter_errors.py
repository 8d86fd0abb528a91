"""A list page's bad filter goes through the one error model: the view raises ``InvalidInput`` and
the page error net answers 400, naming each filter that was wrong, in the user's language."""

import pytest
from django import forms
from django.utils import translation

from core.errors import InvalidInput
from core.pages import filter_errors, invalid_filters


class Filters(forms.Form):
    incident = forms.IntegerField(label="Incident", required=False)
    state = forms.CharField(label="State", required=False, max_length=3)


def test_a_form_with_bad_filters_becomes_one_invalid_input_naming_each():
    form = Filters({"incident": "abc", "state": "toolong"})
    assert not form.is_valid()
    error = invalid_filters(form)
    assert isinstance(error, InvalidInput) and error.status == 400 and error.code == "bad_filter"
    assert error.field == "incident"  # the first bad filter
    assert error.errors == [
        "Incident: Enter a whole number.",
        "State: Ensure this value has at most 3 characters (it has 7).",
    ]


def test_filterset_errors_without_labels_use_the_filter_name():
    error = filter_errors({"since": ["Enter a valid date."], "__all__": ["The range ends before it starts."]})
    assert error.field == "since"
    assert error.errors == ["since: Enter a valid date.", "The range ends before it starts."]


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_queue_answers_a_bad_filter_with_the_error_page(client, support_user, language):
    client.force_login(support_user)
    response = client.get("/console/claims/?incident=abc&state=open", HTTP_ACCEPT_LANGUAGE=language)
    page = response.content.decode()
    assert response.status_code == 400
    with translation.override(language):
        heading = translation.gettext("Bad request")
        lead = translation.gettext("Some of what was sent cannot be used:")
        whole = translation.gettext("Enter a whole number.")
        label = translation.gettext("Incident")
    assert f"<h1>{heading}</h1>" in page and lead in page
    assert f"<li>{label}: {whole}</li>" in page
    assert 'class="error-summary" role="alert"' in page
    assert "<table" not in page  # no list is drawn from filters that could not be read
