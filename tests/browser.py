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
