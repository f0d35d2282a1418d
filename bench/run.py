"""Benchmark: how the optimiser's own time grows with the problem, beside the solver's.

    python bench/run.py [--quick] [--update | --out FILE] [--reps 3] [--scenarios 100] [--families binding,loose]

For each size (professions x regions x decision years, up to 30 x 42 x 10, about
46,000 variables) a dataset in the MODEL.md format is generated (``bench/gen.py``)
and ``pipeline.run(dataset, out)`` -- exactly what ``optimiser run`` does -- is
timed in a fresh process, phase by phase:

* load: read and validate the tables (``load_dataset``);
* build: the PuLP model (``build_model``);
* MPS write: the results folder's ``shortfall_stage.mps`` (PuLP 4's ``writeMPS``);
  the files CBC reads are written inside PuLP's ``COIN_CMD``, so they are in
  ``solve other``;
* CBC: the solver's own wall-clock time, as its log reports it (every stage; the first
  cold, each later one from the basis the stage before ended on); for the largest size the
  same stages are also solved cold, one by one, as the reference the ratio is checked against;
* solve other: the rest of the solve call (PuLP writing each stage's MPS file,
  starting CBC, reading its solution back onto the model, duals);
* results: the results tables (``build_results``);
* write: ``summary.json`` and the CSV files of the results folder;
* peak memory: the largest resident size of the optimiser's process (CBC is a
  separate process, not counted).

``ours / CBC`` is everything that is not the solver (the whole run's wall time
less CBC's own) over CBC's own time. ``us/var`` is that time per variable; the
growth exponent ``k`` fits ours ~ variables^k over the sizes (k <= 1: no worse
than linear).

Then the default dataset (``inputs/england``): ``optimiser run`` wall time,
start to finish (imports included); the same with whole places (``--integer``, each
solver: wall time, status, each stage's proven gap); and batch throughput: ``optimiser batch``
(the batch machinery, a process pool) on two sweeps, of budgets (right-hand
sides only) and of attrition rates (coefficients), each with ``--workers 2``,
timed start to finish.

Two instance families (``bench/gen.py``): ``binding`` (limits bind in places) and
``loose`` (no supervision, no regional budgets, limits with room to spare: fewer variables
and rows of other kinds, so the optimiser's own share can differ).

Results: printed; written (Markdown, and the same name with ``.json``) only when asked:
``--out FILE``, or ``--update`` for the tracked ``bench/results.md``.
Each size runs ``--reps`` times (the median is reported); timings on a shared
machine vary by 20-30 %, so compare ratios measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ENGLAND = ROOT / "inputs" / "england"

#: (professions, regions, decision years): from about England's size to ICS level over ten years.
SIZES = [(12, 7, 4), (20, 14, 6), (25, 21, 8), (30, 30, 10), (30, 42, 10)]
QUICK_SIZES = [(12, 7, 4), (20, 14, 6), (25, 21, 8)]


# ======================================================================= worker


def measure(dataset: Path, solver: str) -> dict:
    """Run ``pipeline.run(dataset, out)`` with each phase timed (in this fresh process)."""
    import pulp

    from optimiser import pipeline
    from optimiser.build import KEEP_ROW

    timings: dict[str, float] = {}
    built = []

    def timed(name: str, func):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                result = func(*args, **kwargs)
            finally:
                timings[name] = timings.get(name, 0.0) + time.perf_counter() - started
            if name == "build":
                built.append(result)
            return result
        return wrapper

    # the names pipeline.run calls, wrapped where pipeline looks them up
    for name, phase in (("load_dataset", "load"), ("build_model", "build"), ("solve_model", "solve"),
                        ("write_mps", "folder_mps"), ("build_results", "results"), ("make_summary", "write"),
                        ("write_folder", "write")):
        setattr(pipeline, name, timed(phase, getattr(pipeline, name)))
    with tempfile.TemporaryDirectory(prefix="bench-out-") as out:
        started = time.perf_counter()
        outcome = pipeline.run(dataset, Path(out) / "result", solver=solver)
        total = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB (Linux)
    solution = outcome.solution
    cbc = solution.solver_reported_seconds
    keep = set(KEEP_ROW.values())
    stage1 = [c for c in built[0].problem.constraints() if c.name not in keep]
    return {
        "variables": len(built[0].problem.variables()), "constraints": len(stage1),
        "nonzeros": sum(len(c.keys()) for c in stage1),
        "status": outcome.summary.status,
        "total": total,
        "load": timings.get("load", 0.0),
        "build": timings.get("build", 0.0),
        "mps_write": timings.get("folder_mps", 0.0),
        "solver": cbc,
        "solve_other": timings.get("solve", 0.0) - cbc,
        "results": timings.get("results", 0.0),
        "write": timings.get("write", 0.0),
        "ours": total - cbc,
        "peak_mb": peak,
        "pulp": pulp.__version__,
    }


# ======================================================================= driver


def cold_stage_seconds(dataset: Path, solver: str) -> float:
    """The solver's own time on every stage of ``dataset`` solved cold: each stage's problem
    (its keep rows filled as ``optimiser.solve`` fills them) handed to a fresh solve, with no
    basis from the stage before. The reference the issue counts the solver's time against."""
    from optimiser import solver as slv
    from optimiser.build import build_model
    from optimiser.loader import load_dataset
    from optimiser.model import COST_STAGE, SHORTFALL_STAGE, SUSTAIN_STAGE
    from optimiser.solve import STAGE2_ABSOLUTE_TOLERANCE, STAGE2_RELATIVE_TOLERANCE

    model = build_model(load_dataset(dataset))
    stages = [(SHORTFALL_STAGE, model.shortfall_objective), (SUSTAIN_STAGE, model.sustain_objective),
              (COST_STAGE, model.cost_objective)]
    seconds, previous = 0.0, None
    for stage, objective in stages:
        if objective is None:
            continue
        if previous is not None:
            keep = model.keep_rows[previous[0]]
            keep += previous[1]
            keep.changeRHS(previous[2] + STAGE2_RELATIVE_TOLERANCE * abs(previous[2]) + STAGE2_ABSOLUTE_TOLERANCE)
        model.problem.setObjective(objective)
        run = slv.run_solver(model.problem, solver, model.settings.time_limit_seconds)
        if run.status != slv.OPTIMAL:
            raise SystemExit(f"cold {stage} stage of {dataset} ended {run.status}")
        seconds += run.solver_seconds or run.wall_seconds
        previous = (stage, objective, run.objective)
    return seconds


def run_size(size: tuple[int, int, int], reps: int, solver: str, data: Path, family: str = "binding",
             cold: bool = False) -> dict:
    from gen import write_dataset

    professions, regions, years = size
    dataset = write_dataset(data / f"{family}_p{professions}_r{regions}_t{years}", professions, regions, years,
                            seed=1, family=family)
    runs = []
    for _ in range(reps):
        done = subprocess.run([sys.executable, __file__, "--worker", str(dataset), "--solver", solver],
                              capture_output=True, text=True, cwd=ROOT)
        if done.returncode != 0:
            raise SystemExit(f"benchmark worker failed on {dataset}:\n{done.stderr}")
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
        if runs[-1]["status"] != "optimal":  # the generator makes feasible datasets: a bug otherwise
            raise SystemExit(f"{dataset} solved {runs[-1]['status']}, expected optimal")
    keys = [k for k, v in runs[0].items() if isinstance(v, float)]
    row = {"family": family, "size": f"{professions} x {regions} x {years}", "professions": professions, "regions": regions,
           "years": years, **{k: runs[0][k] for k in ("variables", "constraints", "nonzeros", "status")},
           **{k: statistics.median(r[k] for r in runs) for k in keys}, "reps": reps,
           "ratio": statistics.median(r["ours"] / r["solver"] for r in runs if r["solver"]),
           "ratio_runs": [round(r["ours"] / r["solver"], 3) for r in runs if r["solver"]]}
    row["us_per_var"] = 1e6 * row["ours"] / row["variables"]
    row["peak_mb"] = max(r["peak_mb"] for r in runs)
    if cold:  # in a fresh process too, so no import or cache is shared with the runs above
        done = subprocess.run([sys.executable, __file__, "--cold", str(dataset), "--solver", solver],
                              capture_output=True, text=True, cwd=ROOT)
        if done.returncode != 0:
            raise SystemExit(f"cold-stage reference failed on {dataset}:\n{done.stderr}")
        row["solver_cold"] = json.loads(done.stdout.strip().splitlines()[-1])["solver_cold"]
    return row


def growth_exponent(rows: list[dict], key: str) -> float | None:
    """Least-squares slope of log(key) against log(variables)."""
    points = [(math.log(r["variables"]), math.log(r[key])) for r in rows if r[key] > 0]
    if len(points) < 2:
        return None
    mx = sum(x for x, _ in points) / len(points)
    my = sum(y for _, y in points) / len(points)
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else None


def time_cli_run(reps: int, solver: str = "cbc") -> dict:
    walls = []
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp:
        for i in range(reps):
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "optimiser", "run", str(ENGLAND), "-o", f"{tmp}/out{i}",
                                   "--solver", solver],
                                  capture_output=True, text=True, cwd=ROOT)
            walls.append(time.perf_counter() - started)
            if done.returncode != 0:
                raise SystemExit(f"optimiser run failed:\n{done.stderr}")
        summary = json.loads(Path(f"{tmp}/out0/summary.json").read_text())
    return {"wall_median": statistics.median(walls), "wall_min": min(walls), "wall_runs": walls,
            "solve_seconds": summary["solve_seconds"], "status": summary["status"]}


def time_integer_runs(reps: int) -> dict:
    """``optimiser run inputs/england --integer`` with each solver, start to finish: wall time,
    status, the solves' time and each stage's proven gap (the default ``mip_gap``)."""
    rows = {}
    with tempfile.TemporaryDirectory(prefix="bench-integer-") as tmp:
        for solver in ("cbc", "highs"):
            walls, summaries = [], []
            for i in range(reps):
                out = Path(tmp) / f"{solver}{i}"
                started = time.perf_counter()
                done = subprocess.run([sys.executable, "-m", "optimiser", "run", str(ENGLAND), "--integer",
                                       "--solver", solver, "-o", str(out)], capture_output=True, text=True, cwd=ROOT)
                walls.append(time.perf_counter() - started)
                if done.returncode not in (0, 4):  # 4: a plan not proven within the gap (a time limit)
                    raise SystemExit(f"optimiser run --integer --solver {solver} failed:\n{done.stderr}")
                summaries.append(json.loads((out / "summary.json").read_text()))
            last = summaries[-1]
            rows[solver] = {"wall_median": statistics.median(walls), "wall_runs": walls,
                            "statuses": [s["status"] for s in summaries], "mip_gaps": last["mip_gaps"],
                            "solve_seconds": [s["solve_seconds"] for s in summaries]}
    return rows


#: The batch sweeps timed: name -> (what it changes, override target, first factor, step).
SWEEPS = {
    "budget": ("budgets: right-hand sides", "budget.budget_gbp", 0.9, 0.01),
    "attrition": ("attrition rates: coefficients", "professions.attrition_rate", 0.95, 0.002),
}


def time_batch(scenarios: int, workers: int, reps: int, small: int = 4, solver: str = "cbc") -> dict:
    """``optimiser batch`` on each sweep of ``SWEEPS`` (``scenarios`` cases) and on ``small`` of its
    cases, start to finish. The difference between the two is the steady rate, without the fixed
    start-up (imports, the worker pool, the comparison workbook written at the end)."""
    return {name: _time_sweep(name, scenarios, workers, reps, small, solver) for name in SWEEPS}


def _time_sweep(name: str, scenarios: int, workers: int, reps: int, small: int, solver: str) -> dict:
    what, target, start, step = SWEEPS[name]
    walls, small_walls, per_case, models = [], [], [], []
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        for i in range(reps):
            for count, times in ((scenarios, walls), (small, small_walls)):
                spec = Path(tmp) / f"sweep{count}.yaml"
                spec.write_text(f"scenarios:\n  {name}:\n    overrides:\n      - target: {target}\n"
                                f"        scale: {{start: {start}, stop: {start + step * (count - 1):.4f}, "
                                f"step: {step}}}\n", encoding="utf-8")
                out = Path(tmp) / f"out{count}-{i}"
                started = time.perf_counter()
                done = subprocess.run([sys.executable, "-m", "optimiser", "batch", str(spec), "--base", str(ENGLAND),
                                       "-o", str(out), "--workers", str(workers), "--quiet", "--solver", solver],
                                      capture_output=True, text=True, cwd=ROOT)
                times.append(time.perf_counter() - started)
                if done.returncode != 0:
                    raise SystemExit(f"optimiser batch failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
                log = [json.loads(line) for line in (out / "batch_log.jsonl").read_text().splitlines()]
                results = [r for r in log if r.get("event") == "result"]
                if len(results) != count or any(r["status"] != "optimal" for r in results):
                    raise SystemExit(f"batch: expected {count} optimal cases, got {len(results)}")
                if count == scenarios:
                    per_case.append(statistics.median(r["seconds"] for r in results))
                    models.append(sum(r.get("model") == "in place" for r in results))
    wall, small_wall = statistics.median(walls), statistics.median(small_walls)
    return {"sweep": name, "changes": what, "scenarios": scenarios, "workers": workers, "wall_median": wall,
            "wall_runs": walls, "per_second": scenarios / wall, "small_batch": small,
            "small_wall_median": small_wall, "steady_per_second": (scenarios - small) / (wall - small_wall),
            "case_seconds_median": statistics.median(per_case), "in_place": statistics.median(models),
            "engine": "optimiser batch (process pool)"}


# ======================================================================= report


SOLVER_NAMES = {"cbc": "CBC", "highs": "HiGHS"}
COLUMNS = [("size", "size (P x R x T)", "{}"), ("variables", "variables", "{:,}"), ("load", "load", "{:.2f}"),
           ("build", "build", "{:.2f}"), ("mps_write", "MPS write", "{:.2f}"), ("solver", "CBC", "{:.2f}"),
           ("solve_other", "solve other", "{:.2f}"), ("results", "results", "{:.2f}"), ("write", "write", "{:.2f}"),
           ("total", "total", "{:.2f}"), ("ours", "ours", "{:.2f}"), ("ratio", "ours / CBC", "{:.2f}"),
           ("us_per_var", "us/var", "{:.0f}"), ("peak_mb", "peak MB", "{:.0f}")]


def markdown(report: dict) -> str:
    name = SOLVER_NAMES.get(report["solver"], report["solver"])
    columns = [(key, title.replace("CBC", name), fmt) for key, title, fmt in COLUMNS]
    how = ("stage 1 cold, each later stage from the basis the one before ended on" if report["solver"] == "cbc"
           else "stage 1 cold, the later stages warm in the kept HiGHS model")
    separate = "CBC runs as a separate process" if report["solver"] == "cbc" else "HiGHS runs inside it"
    text = [f"Run {report['date']} on {report['machine']} (load average {report['load_average']:.1f} at the "
            f"start); times in seconds, median of {report['sizes'][-1]['reps']} runs per size, each in a fresh "
            f"process ({report['solver'].upper()}, {report.get('pulp', '')}).", ""]
    for family in dict.fromkeys(row.get("family", "binding") for row in report["sizes"]):
        rows = [row for row in report["sizes"] if row.get("family", "binding") == family]
        text += [f"Instance family `{family}` (`bench/gen.py`):", "",
                 "| " + " | ".join(title for _, title, _ in columns) + " |",
                 "|" + "|".join("---" if i == 0 else "---:" for i in range(len(columns))) + "|"]
        text += ["| " + " | ".join(fmt.format(row[key]) for key, _, fmt in columns) + " |" for row in rows]
        text.append("")
        largest = rows[-1]
        g = report["growth"].get(family, {})
        text.append(f"- Largest `{family}` instance ({largest['size']}, {largest['variables']:,} variables, "
                    f"{largest['constraints']:,} constraints, {largest['nonzeros']:,} coefficients): "
                    f"everything that is not the solver takes **{largest['ratio']:.2f}x** {name}'s own time on all "
                    f"stages, {how} (runs: {', '.join(f'{r:.2f}' for r in largest['ratio_runs'])}); "
                    f"peak memory of the optimiser's process {largest['peak_mb']:.0f} MB ({separate}).")
        if largest.get("solver_cold"):
            text.append(f"- The same stages each solved cold take {name} {largest['solver_cold']:.2f} s against "
                        f"{largest['solver']:.2f} s as the optimiser starts them, so dividing by the time as run "
                        f"is the stricter ratio (against the cold time: "
                        f"{max(largest['total'] - largest['solver_cold'], 0.0) / largest['solver_cold']:.2f}x).")
        if g.get("ours") is not None:
            text.append(f"- Growth: our time ~ variables^{g['ours']:.2f} ({name}'s ~ variables^{g['solver']:.2f}); "
                        f"per variable {rows[0]['us_per_var']:.0f} us at {rows[0]['variables']:,} variables, "
                        f"{largest['us_per_var']:.0f} us at {largest['variables']:,}.")
        text.append("")
    if report.get("cli"):
        c = report["cli"]
        text.append(f"- `optimiser run inputs/england`: {c['wall_median']:.2f} s wall, start to finish "
                    f"(median of {len(c['wall_runs'])}; imports included; the solves of every stage {c['solve_seconds']:.2f} s).")
    for solver, w in (report.get("integer") or {}).items():
        statuses = sorted(set(w["statuses"]))
        text.append(f"- Whole places, `optimiser run inputs/england --integer --solver {solver}`: "
                    f"{w['wall_median']:.2f} s wall, start to finish (median of {len(w['wall_runs'])}; runs "
                    f"{', '.join(f'{r:.2f}' for r in w['wall_runs'])}), status {' / '.join(statuses)}; proven gaps "
                    + ", ".join(f"{stage} {gap:.2%}" for stage, gap in w["mip_gaps"].items()) + ".")
    for b in (report.get("batch") or {}).values():
        text.append(f"- Batch, {b['engine']}: {b['scenarios']} copies of inputs/england sweeping "
                    f"{b['changes']}, {b['workers']} workers: {b['wall_median']:.2f} s start to finish, "
                    f"**{b['per_second']:.1f} scenarios/s** ({b['case_seconds_median'] * 1000:.0f} ms per case in a "
                    f"worker, median; {b['in_place']:.0f} of {b['scenarios']} re-solved in place); steady rate "
                    f"without the start-up ({b['small_batch']} cases take {b['small_wall_median']:.2f} s): "
                    f"**{b['steady_per_second']:.1f} scenarios/s**.")
    return "\n".join(text) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="three small sizes, one run each, a short batch")
    parser.add_argument("--out", type=Path, default=None,
                        help="write the report (Markdown, and .json beside it) here; by default it is only printed")
    parser.add_argument("--update", action="store_true",
                        help="write the report to the tracked bench/results.md (and .json)")
    parser.add_argument("--families", default="binding,loose",
                        help="instance families of bench/gen.py to run, comma-separated (default: both)")
    parser.add_argument("--reps", type=int, default=None, help="runs per size (default 3; 1 with --quick)")
    parser.add_argument("--scenarios", type=int, default=None, help="batch size (default 100; 40 with --quick)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--solver", choices=["cbc", "highs"], default="cbc")
    parser.add_argument("--no-batch", action="store_true", help="skip the batch throughput run")
    parser.add_argument("--no-integer", action="store_true", help="skip the whole-places runs of inputs/england")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--cold", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(measure(args.worker, args.solver)))
        return 0
    if args.cold:
        print(json.dumps({"solver_cold": cold_stage_seconds(args.cold, args.solver)}))
        return 0

    sys.path.insert(0, str(HERE))
    reps = args.reps or (1 if args.quick else 3)
    sizes = QUICK_SIZES if args.quick else SIZES
    report = {"date": time.strftime("%Y-%m-%d %H:%M"), "solver": args.solver,
              "machine": f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}",
              "load_average": os.getloadavg()[0], "sizes": []}
    families = [f.strip() for f in args.families.split(",") if f.strip()]
    with tempfile.TemporaryDirectory(prefix="bench-data-") as data:
        for family in families:
            for size in sizes:
                row = run_size(size, reps, args.solver, Path(data), family, cold=size == sizes[-1])
                report["sizes"].append(row)
                print(f"{family:>8} {row['size']:>14}: {row['variables']:>6,} variables  ours {row['ours']:6.2f} s  "
                      f"CBC {row['solver']:6.2f} s  ratio {row['ratio']:.2f}  {row['us_per_var']:.0f} us/var  "
                      f"peak {row['peak_mb']:.0f} MB", flush=True)
    import pulp

    report["pulp"] = f"PuLP {pulp.__version__}"
    report["growth"] = {family: {"ours": growth_exponent([r for r in report["sizes"] if r["family"] == family], "ours"),
                                 "solver": growth_exponent([r for r in report["sizes"] if r["family"] == family], "solver")}
                        for family in families}
    report["cli"] = time_cli_run(3 if args.quick else 5, args.solver)
    print(f"optimiser run inputs/england: {report['cli']['wall_median']:.2f} s", flush=True)
    report["integer"] = {} if args.no_integer else time_integer_runs(1 if args.quick else 3)
    for solver, w in report["integer"].items():
        print(f"optimiser run inputs/england --integer --solver {solver}: {w['wall_median']:.2f} s, "
              f"{'/'.join(sorted(set(w['statuses'])))}", flush=True)
    if not args.no_batch:
        scenarios = args.scenarios or (40 if args.quick else 100)
        report["batch"] = time_batch(scenarios, args.workers, 1 if args.quick else 3, solver=args.solver)
        for name, b in report["batch"].items():
            print(f"batch ({name}): {b['per_second']:.1f} scenarios/s start to finish, "
                  f"{b['steady_per_second']:.1f} steady", flush=True)

    text = markdown(report)
    print()
    print(text)
    out = HERE / "results.md" if args.update else args.out
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
