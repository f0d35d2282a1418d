"""The what-if page in a real browser: ``optimiser app`` on a free local port, driven by
Playwright for Python in headless Chromium (Debian's, at ``CHROMIUM``).

Shiny, Playwright or Chromium missing: the tests skip on a developer machine and FAIL
under CI (``CI`` set), since ``.ci/run`` installs all three (the ``test`` extra, apt).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: Seconds the server may take to print its address (it reads and validates the dataset first).
SERVER_START_SECONDS = 60
#: Seconds a solve may take in a test (CBC on a loaded CI machine): generous, not a benchmark.
SOLVE_TIMEOUT_MS = 120_000
ADDRESS = re.compile(r"http://127\.0\.0\.1:(\d+)/")


def missing(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing; CI installs it (pip install -e '.[test]', apt-get install chromium)")
    pytest.skip(f"{what} is missing (pip install -e '.[test]'; apt-get install chromium)")


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    for path in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if os.path.exists(path):
            return path
    missing("Chromium")
    return ""  # not reached


def require_packages() -> None:
    for name in ("shiny", "playwright", "uvicorn"):
        try:
            __import__(name)
        except ImportError:
            missing(f"the Python package '{name}'")


@dataclass
class Served:
    """A running app: its address and everything it has printed so far."""

    url: str
    output: list[str]

    def tracebacks(self) -> list[str]:
        return [line for line in self.output if "Traceback" in line]


@contextmanager
def app_server(dataset: Path | str = "inputs/england", *extra: str):
    """``optimiser app DATASET --port 0`` in its own process; yields ``Served``; stopped by its pid."""
    require_packages()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "optimiser", "app", str(dataset), "--port", "0", *extra],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        deadline, lines, url = time.monotonic() + SERVER_START_SECONDS, [], None
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            found = ADDRESS.search(line)
            url = f"http://127.0.0.1:{found.group(1)}/" if found else None
        if url is None:
            raise AssertionError("the app printed no address: " + "".join(lines))
        reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)  # keep its pipe drained
        reader.start()
        yield Served(url, lines)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@contextmanager
def chromium_browser():
    """Headless Chromium through Playwright (Debian's Chromium: Playwright's download is not used)."""
    require_packages()
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class Offline:
    """Refuses, and records, every request a page makes to anything but the app's own address."""

    def __init__(self, context, origin: str):
        self.origin, self.refused = origin.rstrip("/"), []
        context.route("**/*", self._route)

    def _route(self, route):
        url = route.request.url
        if url.startswith(self.origin) or url.startswith("data:") or url.startswith("blob:"):
            route.continue_()
        else:
            self.refused.append(url)
            route.abort()


def figure(page, test_id: str) -> str:
    return page.get_by_test_id(test_id).inner_text().strip()


def wait_ready(page, timeout_ms: int = SOLVE_TIMEOUT_MS) -> None:
    """Until the page shows a finished solve (no solve running)."""
    page.wait_for_selector("[data-testid=ready][data-state=ready]", timeout=timeout_ms)
    page.wait_for_selector("[data-testid=shortfall]", timeout=timeout_ms)


def wait_changed(page, test_id: str, before: str, timeout_ms: int = SOLVE_TIMEOUT_MS) -> str:
    page.wait_for_function(
        "([id, before]) => { const e = document.querySelector(`[data-testid=${id}]`);"
        " return e && e.innerText.trim() !== before; }", arg=[test_id, before], timeout=timeout_ms)
    return figure(page, test_id)


def apply_budget_share(page, year: str, percent: float) -> None:
    """In the budget form: the year, '% of given', the share, Apply."""
    page.select_option("#budget_year", year)
    page.get_by_label("% of given").check()
    page.wait_for_function("() => document.querySelector('#budget_amount').value === '100'")
    page.fill("#budget_amount", f"{percent:g}")
    page.click("#apply_budget")
