"""The scorecard in headless Chromium: English and Chinese, 1366 and 375 px wide, no text
overlapping other text (nor a row's label), no sideways scroll, figures linked to their windows."""

import pytest
from django.urls import reverse

from tests.conftest import browser_login

pytestmark = pytest.mark.django_db

# Every visible text run inside <main> as client rectangles (one list per text node), plus the
# label column of responsive cells: content must start right of a cell's ::before label.
_OVERLAPS_JS = """
() => {
  const main = document.querySelector('main');
  const runs = [];
  const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
  let node;
  while ((node = walker.nextNode())) {
    const text = node.textContent.trim();
    if (!text) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const rects = [...range.getClientRects()].filter(r => r.width > 0.5 && r.height > 0.5);
    if (rects.length) runs.push({text: text.slice(0, 40), rects, el: node.parentElement});
  }
  const problems = [];
  for (let a = 0; a < runs.length; a++) {
    for (let b = a + 1; b < runs.length; b++) {
      for (const r of runs[a].rects) for (const s of runs[b].rects) {
        const w = Math.min(r.right, s.right) - Math.max(r.left, s.left);
        const h = Math.min(r.bottom, s.bottom) - Math.max(r.top, s.top);
        if (w > 1 && h > 1) problems.push(`${runs[a].text} | ${runs[b].text}`);
      }
    }
  }
  for (const td of main.querySelectorAll('td[data-label]')) {
    const before = getComputedStyle(td, '::before');
    if (before.content === 'none' || before.display === 'none') continue;
    const labelRight = td.getBoundingClientRect().left + parseFloat(getComputedStyle(td).paddingLeft)
      + parseFloat(before.width);
    for (const run of runs) {
      if (!td.contains(run.el)) continue;
      for (const r of run.rects) {
        if (r.left < labelRight - 1) problems.push(`label of ${td.dataset.label} | ${run.text}`);
      }
    }
  }
  return problems;
}
"""


def _switch_language(page, code):
    page.select_option("select[name=language]", code)
    with page.expect_navigation():
        page.click("form.langswitch button[type=submit]")
    assert page.get_attribute("html", "lang") == code


@pytest.mark.browser
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_scorecard_in_both_languages_and_widths(page, screenshot, support_user, two_providers, language):
    url = page.base_url + reverse("sla:scorecard") + "?kind=rtc&month=2026-11"
    browser_login(page, support_user.username)
    page.goto(url)
    if language != "en":
        _switch_language(page, language)
    heading = {"en": "Provider scorecard", "zh-hans": "服务商记分卡"}[language]
    for width in (1366, 375):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(url)
        assert page.inner_text("h1") == heading
        for section in ("#stability", "#quality", "#response", "#record", "#trends"):
            assert page.is_visible(section)
        assert "99.9653" in page.inner_text("#stability")
        # Providers side by side: a column each (wide), or each value labelled with its provider (phone).
        assert page.locator("#stability td[data-label='Bolt Live']").count() == 7
        assert page.locator("#trends svg.trend-chart").count() == 6
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert page.evaluate(_OVERLAPS_JS) == []
        screenshot(page, f"sla-scorecard-{language}-{width}")

    page.click("#stability a:has-text('99.9653')")
    page.wait_for_selector("table.responsive")
    assert page.locator("table.responsive tbody tr").count() == 3  # the three down windows
    assert page.evaluate(_OVERLAPS_JS) == []
    screenshot(page, f"sla-scorecard-windows-{language}")
