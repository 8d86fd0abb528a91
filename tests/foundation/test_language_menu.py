"""The language menu changes nothing until Apply is pressed (WCAG 3.2.2: choosing an option is
no change of context) and marks each option with its own language."""

import pytest
from django.urls import reverse


@pytest.mark.browser
@pytest.mark.django_db
def test_language_applies_only_with_the_button(page):
    page.goto(page.base_url + reverse("login"))
    options = page.locator("select[name=language] option")
    assert {options.nth(i).get_attribute("lang") for i in range(options.count())} == {"en", "zh-hans"}
    page.focus("select[name=language]")
    page.keyboard.press("ArrowDown")
    page.wait_for_timeout(300)
    assert page.get_attribute("html", "lang") == "en"
    assert page.input_value("select[name=language]") == "zh-hans"
    button = page.get_by_role("button", name="Apply")
    button.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_attribute("html", "lang") == "zh-hans"
    assert page.input_value("select[name=language]") == "zh-hans"
