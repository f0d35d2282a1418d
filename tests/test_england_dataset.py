"""The England dataset (inputs/england) against the seed and against its own SOURCES.md.

Reads the CSV tables with pandas and settings.yaml with PyYAML only: no optimiser import, so
these checks hold whatever the loader does. The figures asserted here are the ones SOURCES.md
states (seed totals, the PWP turnover split, the 2020/21 back-cast and its residual, the
budget rule, the lever tables: routes, retention, recruitment).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

DATA = Path(__file__).resolve().parents[1] / "inputs" / "england"

# March 2020 baseline per profession (SOURCES.md "Baseline"): the seed's "about 16,000 in 2019",
# year 2019 = 2019/20, whose end-of-year position is 31 March 2020. Appears in no table.
BASELINE_2019 = {
    "clinical_psychologist": 5900, "counselling_psychologist": 290, "forensic_psychologist": 150,
    "health_psychologist": 30, "child_adolescent_psychotherapist": 500, "adult_psychotherapist": 750,
    "cbt_therapist": 4010, "counsellor": 970, "family_systemic_psychotherapist": 510, "pwp": 2090,
    "cwp": 800, "emhp": 0, "mhwp": 0,
}
POSTS = {"pwp", "cwp", "emhp", "mhwp", "cbt_therapist"}
RECURRING = {"counselling_psychologist", "adult_psychotherapist", "counsellor", "family_systemic_psychotherapist"}
# stated in SOURCES.md ("Back-cast")
STATED_BACKCAST_TOTAL = 17031.7
STATED_RESIDUAL = 3068.3
STATED_RECURRING = 527.5
STATED_BUDGET = 316_000_000
# the 2020/21 High Intensity cohort's sources (SOURCES.md "recruitment_sources.csv"): history, used by
# the back-cast; the decision years choose between the inside-IAPT main route and hi_outside_iapt
HISTORICAL_SOURCES = {("cbt_therapist", "pwp"): 0.40, ("cbt_therapist", "counsellor"): 0.05}
# the recurring residual's recruitment-initiative part (SOURCES.md "inflows.csv", "recruitment.csv")
INITIATIVE = {"counsellor": 148, "adult_psychotherapist": 69}
DECISION_YEARS = list(range(2021, 2028))
ROUTE_COLUMNS = ["profession", "route", "duration_years", "start_month", "completion_rate", "joining_rate",
                 "cost_per_trainee_year_gbp", "supervision_hours_per_trainee", "source_profession",
                 "source_draw", "max_share"]
RETENTION_COLUMNS = ["profession", "region", "tranche", "max_share_of_leavers", "cost_per_wte_year_gbp",
                     "first_year"]
RECRUITMENT_COLUMNS = ["profession", "region", "lead_time_years", "cost_per_wte_gbp", "max_wte_per_year",
                       "first_year_attrition"]


def table(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / f"{name}.csv", keep_default_na=True)


@pytest.fixture(scope="module")
def settings():
    return yaml.safe_load((DATA / "settings.yaml").read_text())


@pytest.fixture(scope="module")
def prof():
    return table("professions").set_index("profession")


def lag(d: int, m: int) -> int:
    """MODEL.md: completion lag Q = d - 1 for an April start, else d."""
    return d - 1 if m == 4 else d


def national(frame: pd.DataFrame, keys: list[str], value: str) -> dict:
    return frame.groupby(keys)[value].sum().to_dict()


# ------------------------------------------------------------------ seed totals

def test_stock_march_2021_is_the_seed_20100():
    assert table("workforce").stock_wte.sum() == pytest.approx(20100)


def test_demand_2023_is_the_seed_26640():
    demand = table("demand")
    assert demand[demand.year == 2023].demand_wte.sum() == pytest.approx(16000 + 10640)
    assert demand[(demand.year == 2023) & (demand.profession == "emhp")].demand_wte.sum() == pytest.approx(2500)
    psych = ["clinical_psychologist", "counselling_psychologist", "forensic_psychologist", "health_psychologist"]
    assert demand[(demand.year == 2023) & demand.profession.isin(psych)].demand_wte.sum() - 6370 == pytest.approx(2520)


def test_baseline_is_the_seed_16000_with_its_quoted_professions():
    assert sum(BASELINE_2019.values()) == 16000
    assert (BASELINE_2019["counselling_psychologist"], BASELINE_2019["counsellor"],
            BASELINE_2019["child_adolescent_psychotherapist"], BASELINE_2019["pwp"]) == (290, 970, 500, 2090)
    big3 = BASELINE_2019["clinical_psychologist"] + BASELINE_2019["cbt_therapist"] + BASELINE_2019["pwp"]
    assert big3 == 0.75 * 16000  # "around three quarters" (section 3)


def test_pwp_turnover_is_the_seed_30_per_cent_counted_once(prof):
    """Seed 5.1.11: ~30 % of PWPs leave each year, most of them to High Intensity training.
    The HI move is the draw of the cbt_therapist main route (the inside-IAPT route, whose trainees
    come from PWPs and counsellors), chosen by the plan against the capped hi_outside_iapt route;
    attrition_rate is the rest, once. At the 2020/21 mix (40 % of 1,000 trainees from PWPs) the
    two add up to the seed's 30 %."""
    sources = table("recruitment_sources")
    share = float(sources[(sources.trainee_profession == "cbt_therapist") & (sources.source_profession == "pwp")].share.iloc[0])
    inside = sum(HISTORICAL_SOURCES.values())
    assert share == round(HISTORICAL_SOURCES[("cbt_therapist", "pwp")] / inside, 2) == 0.89
    pipeline = table("pipeline")
    cbt_2020 = pipeline[(pipeline.profession == "cbt_therapist") & (pipeline.start_year == 2020)].trainees.sum()
    stock = table("workforce")
    pwp_stock = stock[stock.profession == "pwp"].stock_wte.sum()
    # 2020/21: 45 % of the cohort came from inside IAPT, 0.89 of those from PWPs (= 0.40 of the cohort)
    to_hi = share * inside * cbt_2020 / pwp_stock
    assert to_hi == pytest.approx(HISTORICAL_SOURCES[("cbt_therapist", "pwp")] * cbt_2020 / pwp_stock, rel=0.01)
    attrition = prof.loc["pwp", "attrition_rate"]
    assert attrition + to_hi == pytest.approx(0.30, abs=0.005)
    assert to_hi > attrition  # "most leave to progress onto High Intensity training"
    assert attrition == pytest.approx(0.14)
    # the High Intensity move is drawn once: by the main route only, never also by a route row,
    # and the outside-IAPT route draws nothing
    routes = table("routes")
    assert not (routes.source_profession == "pwp").any()
    outside = routes[(routes.profession == "cbt_therapist") & (routes.route == "hi_outside_iapt")].iloc[0]
    assert pd.isna(outside.source_profession) and pd.isna(outside.source_draw)
    # PWP retention keeps leavers other than those going to High Intensity training
    retention = table("retention")
    assert (retention.profession == "pwp").any()


# ------------------------------------------------------------------ version-2 columns

def test_every_profession_has_start_month_and_service_basis(prof):
    assert prof.start_month.notna().all()
    assert prof.start_month.between(1, 12).all()
    assert set(prof.service_basis) <= {"posts", "qualified"}
    assert set(prof.index[prof.service_basis == "posts"]) == POSTS
    assert prof.loc["emhp", "start_month"] == 1  # "commenced in January 2019"
    assert 5 <= prof.loc["mhwp", "start_month"] <= 8  # "spring-summer 2022": completes in the next year


def test_trainee_service_by_training_year(prof):
    service = table("trainee_service")
    assert not service.duplicated(["profession", "training_year"]).any()
    for p, row in prof.iterrows():
        q = lag(int(row.duration_years), int(row.start_month))
        rows = service[service.profession == p].set_index("training_year").service_wte
        assert sorted(rows.index) == list(range(1, q + 1)), p
        if row.service_basis == "qualified":
            assert rows[1] == 0, p  # first-year service 0 (MODEL.md default)
        else:
            assert rows[1] == 0.5, p  # recruit-to-train: in the post from day one (SOURCES.md)
    fst = service[service.profession == "family_systemic_psychotherapist"]
    assert (fst.service_wte == 0).all()  # already employed (and counted) in another profession
    assert prof.loc["family_systemic_psychotherapist", "trainee_service_wte"] == 0


def test_self_funded_and_employer_funded_intakes_are_fixed_and_free(prof):
    capacity = table("capacity")
    for p in ("counselling_psychologist", "forensic_psychologist"):
        assert prof.loc[p, "cost_per_trainee_year_gbp"] == 0
        rows = capacity[capacity.profession == p]
        assert (rows.intake_min == rows.intake_max).all()
        assert sorted(rows.year.unique()) == list(range(2021, 2028))


def test_max_decline_only_where_commissioned(prof):
    commissioned = prof[prof.cost_per_trainee_year_gbp > 0]
    assert commissioned.max_decline.notna().all()
    assert prof[prof.cost_per_trainee_year_gbp == 0].max_decline.isna().all()


# ------------------------------------------------------------------ years

def test_settings(settings):
    assert (settings["base_year"], settings["target_year"], settings["horizon_end"]) == (2020, 2023, 2027)
    assert settings["assessed_years"] == [2023]


def test_demand_covers_every_year_to_the_horizon(settings, prof):
    demand = table("demand")
    years = list(range(settings["base_year"] + 1, settings["horizon_end"] + 1))
    regions = set(table("regions").region)
    for p in prof.index:
        for r in regions:
            got = sorted(demand[(demand.profession == p) & (demand.region == r)].year)
            assert got == years, (p, r)
    held = demand.pivot_table(index=["profession", "region"], columns="year", values="demand_wte")
    for y in range(2024, settings["horizon_end"] + 1):
        assert (held[y] == held[2023]).all()  # held at the 2023/24 level (SOURCES.md)
    mhwp = demand[(demand.profession == "mhwp") & (demand.year == 2021)]
    assert (mhwp.demand_wte == 0).all()  # no phantom demand before the role exists


def test_limits_extend_to_the_horizon(settings):
    capacity = table("capacity")
    placed = capacity[capacity.placement_capacity.notna()]
    for p, rows in placed.groupby("profession"):
        assert rows.year.max() == settings["horizon_end"], p
    budget = table("budget")
    assert sorted(budget.year) == list(range(2021, settings["horizon_end"] + 1))
    assert budget.region.isna().all()


# ------------------------------------------------------------------ seed checks of the pipeline

def test_emhp_started_by_january_2022_and_cwp_completed():
    pipeline, capacity = table("pipeline"), table("capacity")
    emhp = pipeline[pipeline.profession == "emhp"].trainees.sum()
    emhp_2021 = capacity[(capacity.profession == "emhp") & (capacity.year == 2021)].intake_min.sum()
    assert emhp + emhp_2021 >= 1500  # "more than 1,500 EMHPs will have started training by January 2022"
    cwp = pipeline[pipeline.profession == "cwp"].trainees.sum()  # Jan 2018 .. Jan 2021 starts: done by Jan 2022
    assert 0.9 * cwp >= 1700  # "more than 1,700 CWPs will have completed training ... by January 2022"


# ------------------------------------------------------------------ the back-cast (SOURCES.md "Back-cast")

def backcast(prof):
    pipeline = national(table("pipeline"), ["profession", "start_year"], "trainees")
    stock = national(table("workforce"), ["profession"], "stock_wte")
    out = {}
    for p, row in prof.iterrows():
        q = lag(int(row.duration_years), int(row.start_month))
        joined = row.joining_rate * row.completion_rate * pipeline.get((p, 2020 - q), 0)
        # the 2020/21 draw is history: the cohort's own sources, not the decision-year routes
        drawn = sum(share * pipeline.get((trainee, 2020), 0)
                    for (trainee, source), share in HISTORICAL_SOURCES.items() if source == p)
        back = (1 - row.attrition_rate) * BASELINE_2019[p] + joined - drawn
        out[p] = (back, stock[p] - back)
    return out


def test_back_cast_reproduces_the_stated_residual(prof):
    bc = backcast(prof)
    total = sum(b for b, _ in bc.values())
    residual = sum(r for _, r in bc.values())
    assert total == pytest.approx(STATED_BACKCAST_TOTAL, abs=0.05)
    assert residual == pytest.approx(STATED_RESIDUAL, abs=0.05)
    assert residual == pytest.approx(20100 - total)
    # the modelled flows explain only about a quarter of the 4,100 WTE growth
    assert (total - 16000) / 4100 == pytest.approx(0.252, abs=0.001)
    assert bc["clinical_psychologist"][1] == pytest.approx(909.0)


def test_recurring_part_of_the_residual_is_counted_once(prof, settings):
    """The recurring residual is the fixed inflow plus the recruitment initiative's part, which
    recruitment.csv now offers as a costed decision: each WTE of it is in one place only."""
    bc = backcast(prof)
    assert sum(bc[p][1] for p in RECURRING) == pytest.approx(STATED_RECURRING, abs=0.05)
    inflows = table("inflows")
    assert set(inflows.profession) == RECURRING
    per_year = national(inflows, ["profession", "year"], "inflow_wte")
    recruitment = table("recruitment")
    for p in RECURRING:
        recurring = math.floor(bc[p][1] + 0.5)
        lever = INITIATIVE.get(p, 0)
        if p in INITIATIVE:  # half of the two residuals the seed's initiative names (SOURCES.md)
            assert lever == math.floor(0.5 * recurring)
        for y in range(2021, settings["horizon_end"] + 1):
            assert per_year[(p, y)] + lever == recurring, (p, y)
        rows = recruitment[recruitment.profession == p]
        if lever:  # signings capped so that, net of first-year leavers, at most the lever part is in post
            e = rows.first_year_attrition.iloc[0]
            assert (rows.first_year_attrition == e).all()
            assert rows.max_wte_per_year.sum() == round(lever / (1 - e))
            assert rows.max_wte_per_year.sum() * (1 - e) == pytest.approx(lever, abs=0.5)
        else:
            assert rows.empty
    # international recruitment of clinical psychologists is a lever only, never also a fixed inflow
    assert "clinical_psychologist" not in set(inflows.profession)
    assert set(recruitment.profession) == {"clinical_psychologist"} | set(INITIATIVE)


# ------------------------------------------------------------------ the budget rule (SOURCES.md "budget.csv")

def test_budget_follows_the_stated_rule(prof):
    """Steady-state annual cost (cost x duration x regional multiplier) of the 2021/22
    commissioning round: CP, CAPT and EMHP at their 2021 minimum intakes, the other
    commissioned programmes at their 2020 cohort, counsellors at the 100-place pilot, MHWP at
    its assumed 250-place first cohort; rounded to GBP 1m; the same every year."""
    capacity, pipeline = table("capacity"), table("pipeline")
    mult = table("regions").set_index("region").cost_multiplier.fillna(1.0)
    rnd = []
    for p in ("clinical_psychologist", "child_adolescent_psychotherapist", "emhp"):
        rows = capacity[(capacity.profession == p) & (capacity.year == 2021)]
        rnd += [(p, r.region, r.intake_min) for r in rows.itertuples()]
    for p in ("family_systemic_psychotherapist", "health_psychologist", "adult_psychotherapist",
              "cbt_therapist", "pwp", "cwp"):
        rows = pipeline[(pipeline.profession == p) & (pipeline.start_year == 2020)]
        rnd += [(p, r.region, r.trainees) for r in rows.itertuples()]
    counsellor = capacity[(capacity.profession == "counsellor") & (capacity.year == 2021)]
    rnd += [("counsellor", r.region, r.intake_max) for r in counsellor.itertuples()]
    mhwp = capacity[(capacity.profession == "mhwp") & (capacity.year == 2022)]
    rnd += [("mhwp", r.region, r.placement_capacity) for r in mhwp.itertuples()]
    assert sum(n for p, _, n in rnd if p == "mhwp") == 250
    cost = sum(prof.loc[p, "cost_per_trainee_year_gbp"] * prof.loc[p, "duration_years"] * mult[r] * n
               for p, r, n in rnd)
    assert round(cost / 1e6) * 1_000_000 == STATED_BUDGET
    assert (table("budget").budget_gbp == STATED_BUDGET).all()


# ------------------------------------------------------------------ levers (SOURCES.md "Levers")

def test_routes_table_is_valid(prof):
    routes = table("routes")
    assert list(routes.columns) == ROUTE_COLUMNS
    assert not routes.duplicated(["profession", "route"]).any()
    assert not (routes.route.str.lower() == "main").any()  # MODEL.md: main is the professions row
    assert set(routes.profession) <= set(prof.index)
    for r in routes.itertuples():
        assert int(r.duration_years) == r.duration_years >= 1, r.route
        assert 1 <= r.start_month <= 12 and int(r.start_month) == r.start_month, r.route
        assert 0 < r.completion_rate <= 1 and 0 < r.joining_rate <= 1, r.route
        assert r.cost_per_trainee_year_gbp >= 0 and r.supervision_hours_per_trainee >= 0, r.route
        if pd.isna(r.source_profession):
            assert pd.isna(r.source_draw), r.route
        else:  # a valid source: another modelled profession, a draw of at most one WTE per trainee
            assert r.source_profession in prof.index and r.source_profession != r.profession, r.route
            assert 0 < r.source_draw <= 1, r.route
            # a conversion never creates WTE: what joins the profession is at most what left the source
            assert r.joining_rate * r.completion_rate <= r.source_draw + 1e-9, r.route
        # every route is capped: the uncapped remainder is each profession's main route
        assert 0 < r.max_share < 1, r.route
    # every value is written out (no blank that would silently take the profession's value)
    assert routes.drop(columns=["source_profession", "source_draw"]).notna().all().all()
    # the routes the brief and the seed name
    keys = set(zip(routes.profession, routes.route))
    assert {("cbt_therapist", "hi_outside_iapt"), ("pwp", "apprenticeship"),
            ("family_systemic_psychotherapist", "apprenticeship")} <= keys


def test_recruitment_sources_are_valid(prof):
    sources = table("recruitment_sources")
    assert not sources.duplicated(["trainee_profession", "source_profession"]).any()
    assert set(sources.trainee_profession) | set(sources.source_profession) <= set(prof.index)
    assert (sources.trainee_profession != sources.source_profession).all()
    assert sources.share.between(0, 1).all()
    assert (sources.groupby("trainee_profession").share.sum() <= 1 + 1e-9).all()
    inside = sum(HISTORICAL_SOURCES.values())
    for (q, p), share in HISTORICAL_SOURCES.items():
        row = sources[(sources.trainee_profession == q) & (sources.source_profession == p)]
        assert row.share.iloc[0] == round(share / inside, 2)


def test_a_short_route_reaches_the_target_year_where_its_main_route_cannot(prof, settings):
    """Some route started in a decision year qualifies by the target year although its profession's
    main route, started in the same year, would not (the upskilling route: 1 year against 2)."""
    routes = table("routes")
    target = settings["target_year"]
    found = []
    for r in routes.itertuples():
        q = lag(int(r.duration_years), int(r.start_month))
        main = prof.loc[r.profession]
        q_main = lag(int(main.duration_years), int(main.start_month))
        for s in DECISION_YEARS:
            if s + q <= target < s + q_main:
                found.append((r.profession, r.route, s))
    assert ("adult_psychotherapist", "upskill_counsellors", 2022) in found


def test_fst_apprenticeship_starts_from_2022():
    """Table 3 action 9: "an apprenticeship in family and systemic psychotherapy for entry from 2022".
    Routes have no first year, so the first decision-year cohort (2021/22) must start in 2022: a
    January to March start (calendar year s + 1)."""
    routes = table("routes").set_index(["profession", "route"])
    fst = routes.loc[("family_systemic_psychotherapist", "apprenticeship")]
    assert 1 <= fst.start_month <= 3
    assert fst.duration_years == 4  # the whole four-year route (section 5.1.9)
    assert fst.cost_per_trainee_year_gbp == (2 * 9000 + 16000) / 4
    pwp = routes.loc[("pwp", "apprenticeship")]
    assert pwp.cost_per_trainee_year_gbp == 30000 * 15 / 12  # 15 months in one model year
    assert 5 <= pwp.start_month <= 12  # so that 15 months end inside the next year, as d = 1 says


def test_retention_table_is_valid(prof):
    retention = table("retention")
    assert list(retention.columns) == RETENTION_COLUMNS
    regions = set(table("regions").region)
    assert set(retention.profession) <= set(prof.index)
    assert retention.region.isna().all() or set(retention.region.dropna()) <= regions
    keys = retention.assign(region=retention.region.astype(object).fillna(""),
                            tranche=retention.tranche.fillna(1))
    assert not keys.duplicated(["profession", "region", "tranche"]).any()
    assert retention.max_share_of_leavers.between(0, 1).all()
    assert (retention.cost_per_wte_year_gbp > 0).all()
    assert retention.first_year.dropna().isin(DECISION_YEARS).all()
    for (p, _), rows in keys.groupby(["profession", "region"]):
        assert rows.max_share_of_leavers.sum() <= 1, p  # tranches share one pool of leavers
        ordered = rows.sort_values("tranche")
        assert ordered.cost_per_wte_year_gbp.is_monotonic_increasing, p  # diminishing returns
    # the seed's priority (6.1): PWP retention through career progression, more than one tranche
    pwp = retention[retention.profession == "pwp"]
    assert len(pwp) >= 2 and pwp.region.isna().all()
    # retention acts on attrition_rate, which for PWPs already excludes the High Intensity move
    assert prof.loc["pwp", "attrition_rate"] < 0.30


def test_recruitment_table_is_valid(prof, settings):
    recruitment = table("recruitment")
    assert list(recruitment.columns) == RECRUITMENT_COLUMNS
    regions = set(table("regions").region)
    assert set(recruitment.profession) <= set(prof.index)
    assert set(recruitment.region) <= regions and recruitment.region.notna().all()
    assert not recruitment.duplicated(["profession", "region"]).any()
    assert (recruitment.lead_time_years >= 0).all()
    assert (recruitment.lead_time_years == recruitment.lead_time_years.round()).all()
    assert (recruitment.lead_time_years + settings["base_year"] + 1 <= settings["horizon_end"]).all()
    assert (recruitment.cost_per_wte_gbp > 0).all()
    assert (recruitment.max_wte_per_year >= 0).all()
    assert recruitment.first_year_attrition.between(0, 1).all()
    for p, rows in recruitment.groupby("profession"):
        assert set(rows.region) == regions, p  # every region, split by population
    cp = recruitment[recruitment.profession == "clinical_psychologist"]
    assert cp.max_wte_per_year.sum() == 70  # ethically capped (SOURCES.md)
    assert (cp.lead_time_years == 1).all()
    # first-year attrition above the profession's yearly rate: new joiners leave more
    for r in recruitment.itertuples():
        assert r.first_year_attrition > prof.loc[r.profession, "attrition_rate"], r.profession


# ------------------------------------------------------------------ documentation

def test_every_csv_column_is_in_sources():
    text = (DATA / "SOURCES.md").read_text()
    for path in sorted(DATA.glob("*.csv")):
        for column in pd.read_csv(path, nrows=0).columns:
            assert f"`{column}`" in text, f"{path.name}: column {column} not in SOURCES.md"
        assert f"{path.name}" in text, path.name
    for column in ("max_decline", "start_month", "service_basis"):
        assert re.search(rf"`{column}`", text)


def test_seed_scenario_file_names_only_known_keys():
    """docs/examples/england-seed-scenarios.yaml: plain YAML in the docs/scenarios.md short syntax,
    naming only professions, regions and decision years of this dataset (it cannot be run
    until the loader accepts the version-2 columns)."""
    path = DATA.parents[1] / "docs" / "examples" / "england-seed-scenarios.yaml"
    spec = yaml.safe_load(path.read_text())
    professions = set(table("professions").profession)
    regions = set(table("regions").region)
    years = {str(y) for y in range(2021, 2028)}
    assert set(spec["scenarios"]) == {"baseline", "cp_plus_366", "cp_capt_25pc_sustained",
                                      "cp_capt_25pc_again", "seed_extra_need"}
    seen = 0
    for name, scenario in spec["scenarios"].items():
        for text in (scenario or {}).get("overrides", []):
            m = re.fullmatch(r"(\w+)\.(\w+)\[([^\]]*)\]=(.+)", text)
            assert m, (name, text)
            for part in m.group(3).split(","):
                key, values = part.split("=")
                allowed = {"profession": professions, "region": regions, "year": years}[key]
                assert set(values.split("|")) <= allowed, (name, text)
            seen += 1
    assert seen == 7 + 14 + 15 + 22
    added = sum(int(t.rsplit("+", 1)[1]) for t in spec["scenarios"]["cp_plus_366"]["overrides"])
    assert added == 366
