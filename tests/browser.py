"""Headless Chromium for the report tests: a screenshot and the DOM after load.

Chromium is absent on a developer machine without it: the tests skip. In CI
(``CI`` set) its absence is a failure, since ``.ci/run`` installs it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars")

#: Injected into a copy of the page: records, for each image and section, what the browser rendered.
PROBE = """<script>
for (const img of document.images) {
  img.setAttribute('data-natural-width', img.naturalWidth);
  img.setAttribute('data-rendered-width', Math.round(img.getBoundingClientRect().width));
}
for (const s of document.querySelectorAll('section')) {
  s.setAttribute('data-rendered-height', Math.round(s.getBoundingClientRect().height));
}
document.body.setAttribute('data-probed', 'yes');
</script>"""


def chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; .ci/run installs it (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return exe


def _run(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [chromium(), *FLAGS, f"--user-data-dir={profile}", *args, page.resolve().as_uri()]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180)


def screenshot(page: Path, png: Path, tmp: Path, size: str = "1280,4000") -> Path:
    done = _run(page, tmp / "profile-shot", f"--screenshot={png}", f"--window-size={size}")
    assert png.exists() and png.stat().st_size > 10_000, f"no screenshot: {done.stderr[-2000:]}"
    return png


def rendered_dom(page: Path, tmp: Path) -> str:
    """The DOM after load of a copy of ``page`` with ``PROBE`` injected."""
    probe = tmp / f"probe-{page.name}"
    html = page.read_text(encoding="utf-8")
    probe.write_text(html.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    done = _run(probe, tmp / "profile-dom", "--window-size=1280,4000", "--virtual-time-budget=5000",
                "--dump-dom")
    assert 'data-probed="yes"' in done.stdout, f"the page did not load: {done.stderr[-2000:]}"
    return done.stdout


class Page(HTMLParser):
    """Sections (id -> first h2 text and rendered height) and images of a DOM dump."""

    def __init__(self, dom: str):
        super().__init__()
        self.sections: dict[str, dict] = {}
        self.images: list[dict] = []
        self.charts: list[str] = []
        self.links: list[str] = []
        self._section: str | None = None
        self._in_h2 = False
        self.feed(dom)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section" and a.get("id"):
            self._section = a["id"]
            self.sections[a["id"]] = {"title": "", "height": int(a.get("data-rendered-height", 0) or 0),
                                      "images": 0}
        elif tag == "h2":
            self._in_h2 = True
        elif tag == "img":
            self.images.append({**a, "section": self._section})
            if self._section:
                self.sections[self._section]["images"] += 1
        elif tag == "figure" and a.get("data-chart"):
            self.charts.append(a["data-chart"])
        for key in ("href", "src"):
            if key in a and a[key] and not a[key].startswith(("#", "data:")):
                self.links.append(a[key])

    def handle_endtag(self, tag):
        if tag == "h2":
            self._in_h2 = False

    def handle_data(self, data):
        if self._in_h2 and self._section and not self.sections[self._section]["title"]:
            self.sections[self._section]["title"] = data.strip()


#: Run in a page that holds the report in an iframe: what the report looks like at the iframe's width.
#: Contrast is WCAG 2's ratio between each text's colour and the background it is drawn on (the
#: first opaque background of it or an ancestor, translucent ones blended over it); an ancestor's
#: opacity below 1 blends the text into what lies behind, so it is reported too.
MEASURE = r"""<script>
window.addEventListener('load', () => {
  const doc = document.getElementById('page').contentDocument;
  const win = doc.defaultView;
  const parse = (c) => { const m = c.match(/[\d.]+/g) || ['0','0','0','0']; return [+m[0], +m[1], +m[2], m.length > 3 ? +m[3] : 1]; };
  const lum = ([r, g, b]) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const blend = (top, under) => [0, 1, 2].map(i => top[i] * top[3] + under[i] * (1 - top[3])).concat([1]);
  const background = (el) => { const layers = [];
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) { const c = parse(win.getComputedStyle(e).backgroundColor);
      if (c[3] > 0) { layers.push(c); if (c[3] >= 1) break; } }
    let colour = [255, 255, 255, 1]; for (const c of layers.reverse()) colour = blend(c, colour); return colour; };
  const out = {scrollWidth: doc.documentElement.scrollWidth, clientWidth: doc.documentElement.clientWidth,
               scrollHeight: doc.documentElement.scrollHeight,
               images: [], tables: [], contrast: [], opacity: [], checked: 0};
  for (const img of doc.images) out.images.push({alt: img.alt, width: Math.round(img.getBoundingClientRect().width),
                                                 natural: img.naturalWidth});
  for (const t of doc.querySelectorAll('table')) { const wrap = t.closest('.table-wrap');
    const cells = t.rows.length ? t.rows[0].cells : []; const last = cells[cells.length - 1];
    out.tables.push({name: t.getAttribute('data-table') || '', caption: t.caption ? t.caption.textContent.trim() : '',
      wrapped: !!wrap, overflows: wrap ? wrap.scrollWidth > wrap.clientWidth + 1 : t.scrollWidth > t.clientWidth + 1,
      lastHeader: last ? last.textContent.trim() : '', lastRight: last ? Math.round(last.getBoundingClientRect().right) : 0,
      right: Math.round(t.getBoundingClientRect().right)}); }
  for (const el of doc.body.querySelectorAll('*')) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    const style = win.getComputedStyle(el);
    if (!own || style.visibility === 'hidden' || style.display === 'none' || !el.getClientRects().length) continue;
    out.checked += 1;
    const fg = blend(parse(style.color), background(el)), bg = background(el);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x); const ratio = (a + 0.05) / (b + 0.05);
    if (ratio < 4.5) out.contrast.push({text: el.textContent.trim().slice(0, 60), tag: el.tagName,
                                         cls: el.className, ratio: Math.round(ratio * 100) / 100});
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) if (+win.getComputedStyle(e).opacity < 1) {
      out.opacity.push(el.textContent.trim().slice(0, 60)); break; }
  }
  const pre = document.createElement('pre'); pre.id = 'measured'; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


def measure(page: Path, tmp: Path, width: int, *, print_rules: bool = False, height: int = 3000) -> dict:
    """The report ``page`` as Chromium lays it out ``width`` CSS px wide (in an iframe, since a
    headless window is never narrower than 500 px): page and table widths, images, captions,
    and every text whose contrast is below 4.5:1. ``print_rules``: with its ``@media print`` rules
    applied (as on paper; ``width`` is then the printable width of the page)."""
    import html as _html
    import json

    text = page.read_text(encoding="utf-8")
    if print_rules:
        text = text.replace("@media print", "@media all")
    holder = tmp / f"at-{width}{'-print' if print_rules else ''}-{page.stem}.html"
    holder.write_text(f'<!DOCTYPE html><html><body style="margin:0"><iframe id="page" style="border:0" '
                      f'width="{width}" height="{height}" srcdoc="{_html.escape(text, quote=True)}"></iframe>'
                      f'{MEASURE}</body></html>', encoding="utf-8")
    done = _run(holder, tmp / f"profile-measure-{width}", "--window-size=1280,1000", "--virtual-time-budget=10000",
                "--dump-dom")
    start = done.stdout.find('<pre id="measured">')
    assert start >= 0, f"the page was not measured: {done.stderr[-2000:]}"
    body = done.stdout[start + len('<pre id="measured">'):done.stdout.index("</pre>", start)]
    return json.loads(_html.unescape(body))


def print_to_pdf(page: Path, pdf: Path, tmp: Path) -> Path:
    """Print ``page`` to ``pdf`` as Chromium prints it (its ``@media print`` rules and ``@page`` size)."""
    done = _run(page, tmp / "profile-pdf", f"--print-to-pdf={pdf}", "--no-pdf-header-footer",
                "--virtual-time-budget=10000")
    assert pdf.exists() and pdf.stat().st_size > 10_000, f"no PDF: {done.stderr[-2000:]}"
    return pdf
