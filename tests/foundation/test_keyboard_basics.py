"""Keyboard and low-vision basics on every page: a skip link is the first tab stop and moves focus
to the content, focused controls get a visible ring, and field borders reach 3:1 against white."""

import pytest
from django.urls import reverse

from tests.conftest import browser_login


def contrast(rgb_a, rgb_b):
    def luminance(rgb):
        def channel(c):
            c = c / 255
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

        r, g, b = (channel(c) for c in rgb)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    hi, lo = sorted((luminance(rgb_a), luminance(rgb_b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def rgb(css):
    return tuple(int(float(v)) for v in css[css.index("(") + 1 : css.index(")")].split(",")[:3])


@pytest.mark.browser
@pytest.mark.django_db
def test_skip_link_focus_ring_and_field_borders(page, support_user):
    browser_login(page, support_user.username)
    page.goto(page.base_url + reverse("incidents:list"))
    page.keyboard.press("Tab")
    focused = page.evaluate("[document.activeElement.className, document.activeElement.getAttribute('href')]")
    assert focused == ["skip-link", "#main"]
    assert page.locator(".skip-link").bounding_box()["y"] >= 0  # on screen once focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

    page.goto(page.base_url + reverse("incidents:create"))
    page.focus("input[name=title]")
    ring = page.eval_on_selector("input[name=title]", "e => getComputedStyle(e).outlineStyle")
    assert ring == "solid"
    for selector in ("input[name=title]", "select[name=language]", "textarea", "main button[type=submit]"):
        border = page.eval_on_selector(selector, "e => getComputedStyle(e).borderTopColor")
        assert contrast(rgb(border), (255, 255, 255)) >= 3, (selector, border)
