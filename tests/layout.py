"""Layout checks for browser tests: no text drawn over other text, no sideways scrolling.

``assert_no_overlap(page)`` measures every visible text run (each line of each text node, via
``Range.getClientRects``) and fails when two runs of different nodes intersect. Generated labels
(``td::before { content: attr(data-label) }`` in the phone layout) are text too but have no DOM
node: for the measurement each is replaced by a real first-child span with the pseudo-element's
computed style, which lays out exactly as the pseudo-element did, and removed afterwards.
"""

OVERLAP_JS = r"""
(tolerance) => {
  const probes = [];
  for (const el of document.querySelectorAll("body *")) {
    const before = getComputedStyle(el, "::before");
    const content = before.content;
    if (!content || !content.startsWith('"') || content === '""') continue;
    if (el.closest("svg")) continue;
    const span = document.createElement("span");
    for (const prop of before) {
      if (prop !== "content") span.style.setProperty(prop, before.getPropertyValue(prop));
    }
    span.textContent = JSON.parse(content);
    span.dataset.overlapProbe = "1";
    el.dataset.overlapProbeHost = "1";
    el.insertBefore(span, el.firstChild);
    probes.push(span);
  }
  const style = document.createElement("style");
  style.textContent = "[data-overlap-probe-host]::before { content: none !important; }";
  document.head.appendChild(style);

  const skip = new Set(["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE", "OPTION", "SELECT", "TITLE", "DESC"]);
  const runs = [];
  // An open modal dialog covers the page (which is inert behind its backdrop): check the dialog alone.
  const root = document.querySelector("dialog:modal") || document.body;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  let node, index = 0;
  while ((node = walker.nextNode())) {
    if (!node.textContent.trim()) continue;
    const el = node.parentElement;
    if (!el || skip.has(el.tagName.toUpperCase()) || el.closest("select, .sr-only")) continue;
    // The folded part of a closed <details> is not drawn, though Chromium still reports its boxes.
    const folded = el.closest("details:not([open])");
    if (folded && !el.closest("summary")) continue;
    const cs = getComputedStyle(el);
    if (cs.visibility !== "visible" || parseFloat(cs.opacity) === 0) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const label = node.textContent.trim().slice(0, 40);
    index += 1;
    for (const r of range.getClientRects()) {
      if (r.width < 1 || r.height < 1) continue;
      runs.push({ node: index, text: label, x: r.left, y: r.top + scrollY, w: r.width, h: r.height });
    }
  }
  const found = [];
  for (let i = 0; i < runs.length; i++) {
    const a = runs[i];
    for (let j = i + 1; j < runs.length; j++) {
      const b = runs[j];
      if (a.node === b.node) continue;
      const dx = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
      const dy = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
      if (dx > tolerance && dy > tolerance) {
        found.push(`"${a.text}" overlaps "${b.text}" by ${dx.toFixed(1)}x${dy.toFixed(1)} px`);
        if (found.length >= 10) break;
      }
    }
    if (found.length >= 10) break;
  }
  for (const span of probes) span.remove();
  for (const el of document.querySelectorAll("[data-overlap-probe-host]")) delete el.dataset.overlapProbeHost;
  style.remove();
  return found;
}
"""


def text_overlaps(page, tolerance=2) -> list[str]:
    """Pairs of visible text runs that are drawn over each other (at most 10), as readable strings."""
    return page.evaluate(OVERLAP_JS, tolerance)


def assert_no_overlap(page, tolerance=2):
    found = text_overlaps(page, tolerance)
    assert not found, f"{page.url} at {page.viewport_size['width']} px: " + "; ".join(found)


def assert_no_sideways_scroll(page):
    width = page.viewport_size["width"]
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} scrolls sideways at {width} px ({scroll} px wide)"


def assert_readable(page):
    """Both layout checks; use after each page load at each width and language."""
    assert_no_sideways_scroll(page)
    assert_no_overlap(page)


WIDTHS = (1366, 375)
LANGUAGES = ("en", "zh-hans")


def open_as(browser, live_server, username, *, width=1366, lang="en", height=900, password="pw-secret-123"):
    """A new browser context at ``width`` in ``lang`` (the language cookie), signed in as ``username``.
    Returns (context, page); close the context when done."""
    from tests.conftest import browser_login

    context = browser.new_context(viewport={"width": width, "height": height}, locale="en-US")
    host = live_server.url.split("//", 1)[1].split(":")[0]
    context.add_cookies([{"name": "django_language", "value": lang, "domain": host, "path": "/"}])
    page = context.new_page()
    page.base_url = live_server.url
    if username:
        browser_login(page, username, password)
    return context, page
