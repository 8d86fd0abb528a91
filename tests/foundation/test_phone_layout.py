"""The shared layout at a phone's width (375 px), in Chinese: login, language switch,
navigation, responsive tables and fact lists, in headless Chromium."""

from io import StringIO

import pytest
from django.urls import reverse

from incidents.models import Incident
from sla.models import SLAEvaluation
from tests.conftest import browser_login

pytestmark = pytest.mark.django_db
WIDTH = 375


@pytest.fixture
def demo_data():
    from config.celery import app
    from incidents import demo as incidents_demo
    from sla import demo as sla_demo

    old = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        incidents_demo.seed(None)
        sla_demo.seed(StringIO())
    finally:
        app.conf.task_always_eager = old


def _box(page, selector):
    return page.locator(selector).first.bounding_box()


def _no_sideways_scroll(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH, page.url


@pytest.mark.browser
def test_phone_layout_in_chinese(page, screenshot, support_user, demo_data):
    page.set_viewport_size({"width": WIDTH, "height": 800})
    page.goto(page.base_url + reverse("login"))
    page.select_option("select[name=language]", "zh-hans")
    with page.expect_navigation():
        page.click("form.langswitch button[type=submit]")
    assert page.get_attribute("html", "lang") == "zh-hans"
    assert page.is_visible("text=用户名") and page.is_visible("text=密码")
    _no_sideways_scroll(page)
    screenshot(page, "phone-login-zh")

    browser_login(page, support_user.username)
    page.goto(page.base_url + reverse("incidents:list"))
    # The navigation is its own full-width row under the brand, every link on screen.
    brand, nav = _box(page, ".brand"), _box(page, ".mainnav")
    assert nav["y"] >= brand["y"] + brand["height"] and nav["width"] >= WIDTH - 40
    links = page.locator(".mainnav a")
    assert links.count() >= 4
    for i in range(links.count()):
        box = links.nth(i).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH
    assert page.is_visible(".mainnav >> text=故障事件")
    # A table row is a card: the cell's content (link and reference) beside its label.
    cell = page.locator("table.responsive td[data-label]").first
    link, ref = cell.locator("a").bounding_box(), cell.locator(".muted").bounding_box()
    assert link["x"] >= WIDTH * 0.35 and abs(ref["x"] - link["x"]) < 2 and ref["y"] > link["y"]
    _no_sideways_scroll(page)
    screenshot(page, "phone-incidents-zh")

    page.goto(page.base_url + reverse("incidents:detail", args=[Incident.objects.first().pk]))
    # The outage bar's legend swatches have the colours of the bar's phases.
    fill = page.eval_on_selector("svg rect.phase-started", "e => getComputedStyle(e).fill")
    swatch = page.eval_on_selector("p.muted .phase-started", "e => getComputedStyle(e).color")
    assert fill == swatch == "rgb(217, 45, 32)"
    _no_sideways_scroll(page)
    evaluation = SLAEvaluation.objects.filter(is_current=True).order_by("-period").first()
    page.goto(page.base_url + reverse("sla:evaluation", args=[evaluation.pk]))
    assert page.is_visible("text=(Asia/Shanghai)")
    _no_sideways_scroll(page)
    screenshot(page, "phone-sla-evaluation-zh")
