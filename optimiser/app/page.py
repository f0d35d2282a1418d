"""The what-if page (Shiny for Python): forms on the left, the answer on the right.

Each browser session has its own ``engine.Engine`` (its own kept model and scratch
folder), its own what-if and its own uploads; nothing is shared between sessions but
the read-only base dataset given on the command line. A change is resolved and
checked as a ``--set`` override first (a refused value is shown, the what-if is
left as it was), then solved in a worker thread (``ExtendedTask``), so the page shows
progress and can cancel it. Every figure shown comes from a solve.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import threading
import time
from pathlib import Path

from htmltools import HTML, TagList, tags
from shiny import App, reactive, render, ui

from optimiser.app import answer, bottleneck, changes, chart, downloads, upload
from optimiser.app.engine import Engine
from optimiser.errors import InputError
from optimiser.years import format_year

PAGE_TITLE = "Training commission what-ifs"
PROGRESS_POLL_SECONDS = 0.25
SIDEBAR_WIDTH_PX = 400
PERCENT_STEP = 1
DEFAULT_STEP_PERCENT = 10
ERROR, DONE = "error", "done"
#: ``render.download_button`` (Shiny 1.3 on), else the older ``render.download``: both pair with ``ui.download_button``.
_DOWNLOAD = getattr(render, "download_button", None) or render.download

CSS = """
.figure { font-size: 1.6rem; font-weight: 600; }
.delta { color: #555; }
.problems { color: #9b1c1c; white-space: pre-wrap; font-family: monospace; font-size: .85rem; }
.overrides code { white-space: pre-wrap; }
table.answer { border-collapse: collapse; font-size: .9rem; }
table.answer td, table.answer th { padding: 2px 8px; border-bottom: 1px solid #eee; text-align: right; }
table.answer td:first-child, table.answer th:first-child { text-align: left; }
.status { min-height: 1.5rem; }
"""


def _table(header: list[str], rows: list[list[str]], test_id: str):
    return tags.table({"class": "answer", "data-testid": test_id},
                      tags.thead(tags.tr(*[tags.th(h) for h in header])),
                      tags.tbody(*[tags.tr(*[tags.td(c) for c in row]) for row in rows]))


def _forms(engine: Engine):
    """The what-if forms of a dataset: every choice comes from the dataset itself."""
    ds = engine.dataset
    p_names = {p.profession: p.name or p.profession for p in ds.professions}
    r_names = {r.region: r.name or r.region for r in ds.regions}
    years = {str(y): format_year(y) for y in ds.settings.decision_years}
    national = {b.year: b.budget_gbp for b in ds.budget if b.region is None}
    budget_years = {str(y): format_year(y) for y in sorted(national)}
    professions = dict(sorted(p_names.items(), key=lambda kv: kv[1]))
    regions = dict(sorted(r_names.items(), key=lambda kv: kv[1]))
    levers = changes.levers_in(engine.base)
    rates = {p.profession: p.attrition_rate for p in ds.professions}
    first_budget = min(national) if national else None
    forms = [
        ui.h6("National budget"),
        ui.input_select("budget_year", None, budget_years) if budget_years else ui.p("No national budget rows."),
        ui.input_numeric("budget_amount", "Amount", round(national[first_budget] / changes.GBP_PER_M, 2)
                         if first_budget else 0),
        ui.input_radio_buttons("budget_unit", None, {"gbp_m": "GBP m", "percent": "% of given"}, inline=True),
        ui.input_action_button("apply_budget", "Apply budget", class_="btn-primary btn-sm"),
        ui.hr(),
        ui.h6("Supervisor hours per WTE in a region"),
        ui.input_select("sup_region", None, regions),
        ui.input_select("sup_profession", None, {changes.ALL: "every supervising profession", **professions}),
        ui.input_numeric("sup_percent", "Change (%)", DEFAULT_STEP_PERCENT, step=PERCENT_STEP),
        ui.input_action_button("apply_supervision", "Apply supervision", class_="btn-sm"),
        ui.hr(),
        ui.h6("Attrition of a profession"),
        ui.input_select("att_profession", None, professions),
        ui.input_numeric("att_percent", "Leavers a year (%; retention is 100 less this)",
                         round(rates[next(iter(professions))] * changes.PERCENT, 2) if professions else 0,
                         step=PERCENT_STEP),
        ui.input_action_button("apply_attrition", "Apply attrition", class_="btn-sm"),
        ui.hr(),
        ui.h6("Placements"),
        ui.input_select("pl_profession", None, {changes.ALL: "every profession", **professions}),
        ui.input_select("pl_region", None, {changes.ALL: "every region", **regions}),
        ui.input_numeric("pl_percent", "Change (%)", DEFAULT_STEP_PERCENT, step=PERCENT_STEP),
        ui.input_action_button("apply_placements", "Apply placements", class_="btn-sm"),
        ui.hr(),
        ui.h6("Target year and levers"),
        ui.input_select("target_year", None, years, selected=str(ds.settings.target_year)),
        ui.input_checkbox_group("levers", "Levers allowed", {t: changes.LEVER_NAMES[t] for t in levers},
                                selected=levers),
        ui.input_action_button("apply_target", "Apply target year and levers", class_="btn-sm"),
        ui.hr(),
        ui.h6("Any override (as after --set)"),
        ui.input_text("free_text", None, placeholder="budget.budget_gbp[year=2022]=*0.9"),
        ui.input_action_button("apply_free", "Apply override", class_="btn-sm"),
    ]
    return TagList(*forms)


page_ui = ui.page_sidebar(
    ui.sidebar(
        ui.output_ui("dataset_line"),
        ui.input_file("workbook", "Upload a dataset workbook (.xlsx)", accept=[".xlsx"], multiple=False),
        ui.output_ui("upload_problems"),
        ui.hr(),
        ui.output_ui("forms"),
        width=SIDEBAR_WIDTH_PX,
    ),
    ui.tags.style(CSS),
    ui.div(ui.output_ui("status"), class_="status"),
    ui.output_ui("change_problems"),
    ui.output_ui("headline"),
    ui.layout_columns(
        ui.card(ui.card_header("Against the dataset as given (both re-solved)"), ui.output_ui("difference")),
        ui.card(ui.card_header("What-if overrides"), ui.output_ui("overrides"),
                ui.div(ui.input_action_button("undo", "Undo last", class_="btn-sm"),
                       ui.input_action_button("reset", "Back to the dataset as given", class_="btn-sm"),
                       ui.download_button("download_xlsx", "Workbook", class_="btn-sm"),
                       ui.download_button("download_html", "HTML report", class_="btn-sm"))),
        col_widths=(7, 5),
    ),
    ui.card(ui.card_header("What the plan buys: places by profession and year"), ui.output_ui("places")),
    ui.layout_columns(
        ui.card(ui.card_header("Largest gaps"), ui.output_ui("gaps")),
        ui.card(ui.card_header("Binding limits: what one more unit is worth"), ui.output_ui("limits")),
        col_widths=(5, 7),
    ),
    ui.card(ui.card_header("Which region's supervision is the bottleneck"), ui.output_ui("supervision"),
            ui.div(ui.input_action_button("rank_resolve", f"Rank by re-solve (+{DEFAULT_STEP_PERCENT:g} % "
                                          "supervisor hours, one region at a time)", class_="btn-sm"),
                   ui.output_ui("ranking"))),
    title=PAGE_TITLE,
    fillable=False,
)


def _solve(engine: Engine, texts: tuple[str, ...]):
    """Run in a worker thread: ``(DONE, solved)`` or ``(ERROR, messages)``, never an exception."""
    try:
        return DONE, engine.solve(texts)
    except InputError as exc:
        return ERROR, upload.messages(exc)
    except Exception as exc:  # noqa: BLE001 - the page shows a message, never a traceback
        return ERROR, [f"the solve failed: {type(exc).__name__}: {exc}"]


def make_server(shared_engine: Engine):
    """The server function: ``shared_engine`` lends its read-only base to each session's own engine."""

    def server(input, output, session):  # noqa: A002 - Shiny's names
        scratch = Path(tempfile.mkdtemp(prefix="optimiser-session-"))
        engine = reactive.value(Engine(shared_engine.base, shared_engine.options))
        given = reactive.value(None)
        current = reactive.value(None)
        whatif = reactive.value(changes.WhatIf())
        pending = reactive.value(None)  # (role, WhatIf) being solved
        change_msgs = reactive.value([])
        upload_msgs = reactive.value([])
        dataset_name = reactive.value(Path(shared_engine.base.source).name)
        started = reactive.value(0.0)
        last_seconds = reactive.value(None)
        solver_seconds = reactive.value(None)  # (solver, seconds) of the last finished solve
        ranked = reactive.value(None)
        rank_progress = {"done": 0, "of": 0}
        rank_stop = threading.Event()

        def _end():
            rank_stop.set()
            shutil.rmtree(scratch, ignore_errors=True)
            with reactive.isolate():
                engine.get().close()

        session.on_ended(_end)

        @reactive.extended_task
        async def solve_task(eng: Engine, texts: tuple[str, ...]):
            return await asyncio.to_thread(_solve, eng, texts)

        @reactive.extended_task
        async def rank_task(eng: Engine, texts: tuple[str, ...], shortfall: float):
            def run():
                try:
                    return DONE, bottleneck.by_resolve(
                        eng, texts, shortfall,
                        progress=lambda done, of: rank_progress.update(done=done, of=of),
                        stopped=rank_stop.is_set)
                except InputError as exc:
                    return ERROR, upload.messages(exc)
                except Exception as exc:  # noqa: BLE001
                    return ERROR, [f"the ranking failed: {type(exc).__name__}: {exc}"]
            return await asyncio.to_thread(run)

        def start(role: str, proposal: changes.WhatIf) -> None:
            with reactive.isolate():
                pending.set((role, proposal))
                started.set(time.perf_counter())
                solve_task.invoke(engine.get(), proposal.texts)

        # the dataset as given, solved when the session starts (and after an upload)
        with reactive.isolate():
            start("given", changes.WhatIf())

        @reactive.effect
        def _finished():
            status = solve_task.status()
            if status not in ("success",):
                return
            kind, value = solve_task.result()
            with reactive.isolate():
                role, proposal = pending.get()
                last_seconds.set(time.perf_counter() - started.get())
                if kind == ERROR:
                    change_msgs.set(value)
                    return
                change_msgs.set([])
                solver_seconds.set((value.summary.solver, value.summary.solve_seconds))
                if role == "given":
                    given.set(value)
                whatif.set(proposal)
                current.set(value)
                ranked.set(None)

        def propose(text: str) -> None:
            """Check one change as a --set override, then solve the what-if with it."""
            if solve_task.status() == "running":
                solve_task.cancel()
            eng = engine.get()
            try:
                override = eng.overrides([text])[0]
                proposal = whatif.get().with_change(text, override)
                eng.overrides(proposal.texts)
            except InputError as exc:
                change_msgs.set(upload.messages(exc))
                return
            start("whatif", proposal)

        def number(value) -> float | None:
            return None if value is None or value == "" else float(value)

        @reactive.effect
        @reactive.event(input.apply_budget)
        def _budget():
            amount = number(input.budget_amount())
            if amount is None:
                change_msgs.set(["Budget: give an amount."])
                return
            year = int(input.budget_year())
            propose(changes.budget_gbp_m(year, amount) if input.budget_unit() == "gbp_m"
                    else changes.budget_share(year, amount))

        @reactive.effect
        @reactive.event(input.budget_year, input.budget_unit)
        def _budget_default():
            national = {b.year: b.budget_gbp for b in engine.get().dataset.budget if b.region is None}
            year = int(input.budget_year())
            value = (national.get(year, 0.0) / changes.GBP_PER_M if input.budget_unit() == "gbp_m"
                     else changes.PERCENT)
            ui.update_numeric("budget_amount", value=round(value, 2))

        @reactive.effect
        @reactive.event(input.att_profession)
        def _attrition_default():
            rates = {p.profession: p.attrition_rate for p in engine.get().dataset.professions}
            rate = rates.get(input.att_profession())
            if rate is not None:
                ui.update_numeric("att_percent", value=round(rate * changes.PERCENT, 2))

        @reactive.effect
        @reactive.event(input.apply_supervision)
        def _supervision():
            percent = number(input.sup_percent())
            if percent is None:
                change_msgs.set(["Supervisor hours: give a change in %."])
                return
            propose(changes.supervisor_hours(input.sup_region(), input.sup_profession(), percent))

        @reactive.effect
        @reactive.event(input.apply_attrition)
        def _attrition():
            percent = number(input.att_percent())
            if percent is None:
                change_msgs.set(["Attrition: give a rate in %."])
                return
            propose(changes.attrition(input.att_profession(), percent))

        @reactive.effect
        @reactive.event(input.apply_placements)
        def _placements():
            percent = number(input.pl_percent())
            if percent is None:
                change_msgs.set(["Placements: give a change in %."])
                return
            propose(changes.placements(input.pl_profession(), input.pl_region(), percent))

        @reactive.effect
        @reactive.event(input.apply_target)
        def _target():
            eng = engine.get()
            try:
                resolve = lambda text: eng.overrides([text])[0]  # noqa: E731
                off = {t for t in changes.levers_in(eng.base) if t not in (input.levers() or ())}
                proposal = whatif.get().levers_off(off, resolve)
                text = changes.target_year(int(input.target_year()))
                proposal = proposal.with_change(text, resolve(text))
                eng.overrides(proposal.texts)
            except InputError as exc:
                change_msgs.set(upload.messages(exc))
                return
            if solve_task.status() == "running":
                solve_task.cancel()
            start("whatif", proposal)

        @reactive.effect
        @reactive.event(input.apply_free)
        def _free():
            text = (input.free_text() or "").strip()
            if text:
                propose(text)

        @reactive.effect
        @reactive.event(input.undo)
        def _undo():
            if whatif.get().texts:
                start("whatif", whatif.get().without_last())

        @reactive.effect
        @reactive.event(input.reset)
        def _reset():
            if whatif.get().texts:
                start("whatif", changes.WhatIf())

        @reactive.effect
        @reactive.event(input.cancel)
        def _cancel():
            solve_task.cancel()
            rank_stop.set()
            rank_task.cancel()

        @reactive.effect
        @reactive.event(input.workbook)
        def _upload():
            files = input.workbook()
            if not files:
                return
            info = files[0]
            try:
                path = upload.receive(info["name"], int(info.get("size") or 0), info["datapath"],
                                      scratch / f"upload-{time.monotonic_ns()}")
                new = Engine.for_dataset(path, **shared_engine.options.as_dict())
                new.dataset  # noqa: B018 - validated now, so its problems show here
            except InputError as exc:
                upload_msgs.set(upload.messages(exc))
                return
            except Exception as exc:  # noqa: BLE001 - a message, never a traceback
                upload_msgs.set([f"{upload.plain_name(info['name'])}: cannot be read ({type(exc).__name__})"])
                return
            upload_msgs.set([])
            if solve_task.status() == "running":
                solve_task.cancel()
            engine.get().close()
            engine.set(new)
            dataset_name.set(upload.plain_name(info["name"]))
            given.set(None)
            current.set(None)
            whatif.set(changes.WhatIf())
            start("given", changes.WhatIf())

        @reactive.effect
        @reactive.event(input.rank_resolve)
        def _rank():
            solved = current.get()
            if solved is None or solved.summary.total_shortfall_wte is None:
                return
            rank_stop.clear()
            rank_progress.update(done=0, of=len(engine.get().base.regions))
            rank_task.invoke(engine.get(), whatif.get().texts, solved.summary.total_shortfall_wte)

        @reactive.effect
        def _ranked():
            if rank_task.status() != "success":
                return
            kind, value = rank_task.result()
            with reactive.isolate():
                if kind == ERROR:
                    change_msgs.set(value)
                else:
                    ranked.set(value)

        # ------------------------------------------------------------------ outputs

        @render.ui
        def dataset_line():
            return ui.p(ui.strong("Dataset: "), tags.span(dataset_name.get(), {"data-testid": "dataset"}))

        @render.ui
        def forms():
            return _forms(engine.get())

        @render.ui
        def upload_problems():
            problems = upload_msgs.get()
            if not problems:
                return None
            return ui.div(ui.strong("The workbook was not used:"),
                          ui.div("\n".join(problems), class_="problems", **{"data-testid": "upload-problems"}))

        @render.ui
        def change_problems():
            problems = change_msgs.get()
            if not problems:
                return None
            return ui.div(ui.strong("That change was not applied:"),
                          ui.div("\n".join(problems), class_="problems", **{"data-testid": "change-problems"}))

        @render.ui
        def status():
            states = (solve_task.status(), rank_task.status())
            if "running" in states:
                reactive.invalidate_later(PROGRESS_POLL_SECONDS)
                with reactive.isolate():
                    elapsed = time.perf_counter() - started.get()
                what = (f"Solving... {elapsed:.1f} s" if states[0] == "running" else
                        f"Ranking regions by re-solve: {rank_progress['done']} of {rank_progress['of']} solved")
                return ui.div(ui.span(what, **{"data-testid": "progress"}), " ",
                              ui.input_action_button("cancel", "Cancel", class_="btn-sm btn-outline-danger"))
            seconds = last_seconds.get()
            state = "cancelled" if "cancelled" in states else "ready"
            solver = solver_seconds.get()
            of_it = f" ({solver[0].upper()} {solver[1]:.2f} s of it)" if solver else ""
            shown = f"Solved in {seconds:.2f} s{of_it}." if seconds is not None and state == "ready" else \
                "Cancelled: the figures shown are of the last finished solve." if state == "cancelled" else ""
            return ui.span(shown, **{"data-testid": "ready", "data-state": state})

        @render.ui
        def headline():
            solved = current.get()
            if solved is None:
                return ui.p("Solving the dataset as given...")
            h = answer.headline(solved)
            base = given.get()
            g = answer.headline(base) if base is not None else None

            def card(title, value, test_id, before):
                delta = ("" if before is None or value is None else
                         f"vs as given: {answer.signed_wte(value - before)}")
                return ui.card(ui.p(title), ui.div(answer.text.wte(value), class_="figure",
                                                   **{"data-testid": test_id}),
                               ui.div(delta, class_="delta", **{"data-testid": f"{test_id}-delta"}))

            if h.shortfall_wte is None:
                return ui.card(ui.strong(f"No plan: {h.status}"), ui.p(h.message))
            return ui.layout_columns(
                card(f"{h.target_label} shortfall, trainees in posts counted (WTE)", h.shortfall_wte,
                     "shortfall", g.shortfall_wte if g else None),
                card(f"{h.target_label} shortfall, qualified staff only (WTE)", h.qualified_shortfall_wte,
                     "qualified", g.qualified_shortfall_wte if g else None),
                ui.card(ui.p("Cost of trainees"), ui.div(answer.text.gbp(h.cost_gbp), class_="figure",
                                                         **{"data-testid": "cost"}),
                        ui.div(f"status {h.status}", class_="delta")),
            )

        @render.ui
        def difference():
            solved, base = current.get(), given.get()
            if solved is None or base is None:
                return None
            rows = answer.difference(base, solved)
            by_year = answer.places_change_by_year(base, solved)
            changed = [f"{y} {answer.signed_wte(v)}" for y, v in by_year if abs(v) >= answer.SAME_WTE]
            return TagList(
                _table(["", "as given", "this what-if", "change"],
                       [[r.what, r.given, r.whatif, r.change] for r in rows], "difference"),
                ui.p("Places by year: " + (", ".join(changed) if changed else "no change")),
            )

        @render.ui
        def overrides():
            solved = current.get()
            if solved is None or not solved.summary.overrides:
                return ui.p("None: the dataset as given.", **{"data-testid": "overrides"})
            return tags.ol({"class": "overrides", "data-testid": "overrides"},
                           *[tags.li(tags.code(line)) for line in answer.override_lines(solved)])

        @render.ui
        def places():
            solved = current.get()
            if solved is None or solved.results is None:
                return None
            table = answer.places_by_profession_year(solved)
            names = answer.labels_of(solved).p
            rows = [[names(p)] + [answer.text.wte(v) for v in table.loc[p]] for p in table.index]
            return TagList(HTML(chart.places_svg(table, names)),
                           ui.tags.details(ui.tags.summary("The figures"),
                                           _table(["profession", *table.columns], rows, "places")))

        @render.ui
        def gaps():
            solved = current.get()
            if solved is None:
                return None
            out = []
            for by in ("profession", "region"):
                items = answer.largest_gaps(solved, by)
                out.append(_table([f"by {by}", "WTE"], [[k, answer.text.wte(v)] for k, v in items], f"gaps-{by}"))
            return TagList(*out)

        @render.ui
        def limits():
            solved = current.get()
            if solved is None:
                return None
            sentences = answer.limit_sentences(solved)
            if not sentences:
                return ui.p("No limit binds with a price in the target year.")
            return tags.ul(*[tags.li(s) for s in sentences], **{"data-testid": "limits"})

        @render.ui
        def supervision():
            solved = current.get()
            if solved is None:
                return None
            by_price = answer.supervision_by_price(solved)
            return TagList(
                ui.p("Ranked by the shadow prices of supervision capacity, summed over supervising professions "
                     "and years: target-year WTE that one more supervision hour a week from each would close "
                     "(marginal, for small changes)."),
                _table(["region", "WTE per hour a week"], [[r, f"{v:,.3f}"] for r, v in by_price], "supervision"))

        @render.ui
        def ranking():
            order = ranked.get()
            solved = current.get()
            if order is None or solved is None:
                return None
            names = answer.labels_of(solved).r
            return TagList(
                ui.p(f"Re-solved: the target-year shortfall removed by +{bottleneck.SUPERVISION_STEP_PERCENT:g} % "
                     "supervisor hours in that region alone, on top of this what-if."),
                _table(["region", "WTE removed"], [[names(r), answer.signed_wte(v)] for r, v in order],
                       "ranking"))

        @_DOWNLOAD(filename=downloads.WORKBOOK)
        def download_xlsx():
            return str(downloads.write(current.get(), downloads.WORKBOOK, scratch))

        @_DOWNLOAD(filename=downloads.HTML)
        def download_html():
            return str(downloads.write(current.get(), downloads.HTML, scratch))

    return server


def make_app(shared_engine: Engine):
    """The Shiny app for ``shared_engine``'s dataset, behind the upload cap (``limits.BodyCap``)."""
    from optimiser.app.limits import BodyCap
    from optimiser.tablefiles import MAX_WORKBOOK_BYTES

    app = App(page_ui, make_server(shared_engine))
    app.sanitize_errors = True  # an unexpected error shows a generic message in the page, never its text
    return BodyCap(app, MAX_WORKBOOK_BYTES)
