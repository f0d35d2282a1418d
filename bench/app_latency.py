"""Benchmark: how long a what-if takes to show on the page, measured in a real browser.

    python bench/app_latency.py [--changes 20] [--solver cbc|highs] [--out bench/app_latency.json]
                                [--screenshot docs/app.png]

Starts ``optimiser app inputs/england`` on a free local port (its own process), opens
the page in headless Chromium (Playwright, Debian's Chromium), waits for the dataset
as given, then makes ``--changes`` budget changes in the page's budget form (a year's
national budget as a share of the given, years and shares cycling; each a new what-if).
Each change is timed in the page itself, by ``performance.now()``, from the click on
"Apply budget" until the page first shows the re-solved figures (the override list
names the new override and the page says "Solved"; a ``MutationObserver``, so the
measurement costs the page nothing while it waits). Also read from the page:
the server's own time for the solve ("Solved in X s").

Printed and written to ``--out``: every change's milliseconds, the median, the 95th
percentile (nearest rank) and the maximum, the load average before and after. The
machine is shared: run it when it is quiet and compare runs, not single figures.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.app_browser import app_server, chromium_browser, wait_ready  # noqa: E402

YEARS = ("2021", "2022", "2023", "2024", "2025", "2026", "2027")
SHARES_PERCENT = (95, 105, 90, 110, 97, 103)
PERCENTILE = 95
VIEWPORT = {"width": 1400, "height": 1700}
SOLVED = re.compile(r"Solved in ([0-9.]+) s(?: \((\w+) ([0-9.]+) s of it\))?")
#: The change shown in the screenshot: 2021/22's national budget at GBP 250m (moves the shortfall).
SHOT_YEAR, SHOT_GBP_M = "2021", 250


def nearest_rank(values: list[float], percentile: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(percentile / 100 * len(ordered)) - 1)]


#: Installed before each click: records when the click happened and when the page first shows the
#: new what-if solved (a MutationObserver, so the timing costs the page nothing while it waits).
WATCH = """(expected) => {
  window.__shown = undefined;
  const done = () => {
    const o = document.querySelector('[data-testid=overrides]');
    const r = document.querySelector('[data-testid=ready][data-state=ready]');
    return o && r && o.innerText.includes(expected) && r.innerText.startsWith('Solved');
  };
  const observer = new MutationObserver(() => {
    if (window.__shown === undefined && done()) { window.__shown = performance.now(); observer.disconnect(); }
  });
  observer.observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
  document.querySelector('#apply_budget').addEventListener('click', () => { window.__clicked = performance.now(); },
                                                           {once: true, capture: true});
}"""
#: How often Playwright asks whether the page has shown it (the time itself is the page's own).
POLL_MS = 100


def one_change(page, year: str, amount: str, unit: str) -> tuple[float, float, float]:
    """Apply one budget change; ``(milliseconds until shown, server seconds, solver seconds)``."""
    page.select_option("#budget_year", year)
    page.get_by_label(unit).check()
    page.wait_for_timeout(200)  # let the form's default for that year arrive before typing over it
    page.fill("#budget_amount", amount)
    expected = f"year={year}]=" + ("*" + f"{float(amount) / 100:.10g}" if unit == "% of given"
                                   else f"{float(amount) * 1e6:.10g}")
    page.evaluate(WATCH, expected)
    page.click("#apply_budget")
    page.wait_for_function("() => window.__shown !== undefined", polling=POLL_MS, timeout=300_000)
    shown_ms = page.evaluate("() => window.__shown - window.__clicked")
    server = SOLVED.search(page.get_by_test_id("ready").inner_text())
    if server is None:
        return shown_ms, math.nan, math.nan
    return shown_ms, float(server.group(1)), float(server.group(3)) if server.group(3) else math.nan


def cli_run() -> dict:
    """``optimiser run inputs/england --quiet`` in this machine's current state: wall time and its status line."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory(prefix="app-bench-") as tmp:
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "optimiser", "run", "inputs/england", "-o", f"{tmp}/out", "--quiet"],
                              cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True)
        return {"wall_s": round(time.perf_counter() - started, 2), "status_line": done.stdout.splitlines()[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--solver", choices=["cbc", "highs"], default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "app_latency.json")
    parser.add_argument("--screenshot", type=Path, default=None)
    args = parser.parse_args()
    extra = ("--solver", args.solver) if args.solver else ()
    load_before = os.getloadavg()
    cli_before = cli_run()
    print(f"optimiser run inputs/england: {cli_before['wall_s']} s wall; {cli_before['status_line']}")
    rows = []
    with app_server("inputs/england", *extra) as served, chromium_browser() as browser:
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(served.url)
        wait_ready(page)
        for i in range(args.changes):
            year, share = YEARS[i % len(YEARS)], SHARES_PERCENT[i % len(SHARES_PERCENT)]
            shown_ms, server_s, solver_s = one_change(page, year, str(share), "% of given")
            rows.append({"year": year, "share_percent": share, "shown_ms": round(shown_ms, 1),
                         "server_s": server_s, "solver_s": solver_s})
            print(f"{i + 1:>3}. {year} x{share / 100:.2f}: shown in {shown_ms:,.0f} ms (server {server_s:.2f} s, "
                  f"of which the solver {solver_s:.2f} s)")
        if args.screenshot:
            page.click("#reset")
            page.wait_for_function("() => document.querySelector('[data-testid=overrides]').innerText"
                                   ".startsWith('None')", timeout=300_000)
            wait_ready(page)
            one_change(page, SHOT_YEAR, str(SHOT_GBP_M), "GBP m")
            page.screenshot(path=str(args.screenshot), full_page=False)
            print(f"Screenshot written to {args.screenshot}")
    shown = [r["shown_ms"] for r in rows]
    from optimiser.app.engine import page_solver

    report = {"changes": rows, "solver": args.solver or f"{page_solver(None) or 'cbc'} (the page's default)",
              "median_ms": round(nearest_rank(shown, 50), 1),
              "solver_median_ms": round(1000 * nearest_rank([r["solver_s"] for r in rows], 50), 1),
              f"solver_p{PERCENTILE}_ms": round(1000 * nearest_rank([r["solver_s"] for r in rows], PERCENTILE), 1),
              f"p{PERCENTILE}_ms": round(nearest_rank(shown, PERCENTILE), 1), "max_ms": round(max(shown), 1),
              "cli_before": cli_before, "cli_after": cli_run(),
              "load_average_before": load_before, "load_average_after": os.getloadavg(),
              "cpus": os.cpu_count()}
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"{len(shown)} changes: median {report['median_ms']:,.0f} ms, p{PERCENTILE} "
          f"{report[f'p{PERCENTILE}_ms']:,.0f} ms, max {report['max_ms']:,.0f} ms; the solver alone: median "
          f"{report['solver_median_ms']:,.0f} ms, p{PERCENTILE} {report[f'solver_p{PERCENTILE}_ms']:,.0f} ms "
          f"(load average {load_before[0]:.1f} before); written to {args.out}")


if __name__ == "__main__":
    main()
