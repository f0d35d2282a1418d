"""Rebuild inputs/england to MODEL.md version 2 (run from the repository root).

    python tools/build_england.py

Every figure written here is explained in inputs/england/SOURCES.md (SEED, DERIVED or
ASSUMPTION). The version-1 tables that stay as they were (regions.csv, workforce.csv,
supervision.csv) are read, not written. The budget rule and the back-cast residual are
computed here from the data only: nothing in this script reads a result of the optimiser.
The levers of model version 2 (routes.csv, retention.csv, recruitment.csv) and the
recruitment_sources.csv that goes with the High Intensity routes are written here too;
their figures were set by the reasoning in SOURCES.md before any solve with them.
"""
from __future__ import annotations

import csv
import math
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "inputs" / "england"
REGIONS = ["london", "south_east", "south_west", "east_of_england", "midlands", "north_west",
           "north_east_yorkshire"]
POP = dict(zip(REGIONS, [0.16, 0.16, 0.10, 0.11, 0.19, 0.13, 0.15]))
CAPT = dict(zip(REGIONS, [0.35, 0.15, 0.08, 0.08, 0.12, 0.11, 0.11]))
BASE, TARGET, HORIZON = 2020, 2023, 2027
YEARS = list(range(BASE + 1, HORIZON + 1))
SUSTAIN = [y for y in YEARS if y > TARGET]


def shares(p):
    return CAPT if p == "child_adolescent_psychotherapist" else POP


def split(total, weights):
    """Largest remainder: whole numbers per region that add up to `total` exactly."""
    raw = {r: total * w for r, w in weights.items()}
    out = {r: math.floor(v) for r, v in raw.items()}
    left = round(total - sum(out.values()))
    for r in sorted(raw, key=lambda r: (-(raw[r] - out[r]), REGIONS.index(r)))[:left]:
        out[r] += 1
    return out


def read(name):
    with open(DATA / name, newline="") as f:
        return list(csv.DictReader(f))


def write(name, header, rows):
    with open(DATA / name, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def fmt(x):
    if x is None:
        return ""
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return str(x)


# ---------------------------------------------------------------- professions
# name, d, start_month, completion, joining, attrition, cost, sup. need, sup. hours/WTE,
# trainee_service_wte (2nd year on), service_basis, weight, max_growth, max_decline
PROF = {
    "clinical_psychologist": ("Clinical psychologists", 3, 9, 0.95, 0.9, 0.08, 55000, 3.0, 1.5, 0.3, "qualified", 1, 0.25, 0.0),
    "counselling_psychologist": ("Counselling psychologists", 3, 9, 0.9, 0.6, 0.08, 0, 1.5, 1.0, 0.3, "qualified", 1, None, None),
    "forensic_psychologist": ("Forensic psychologists", 2, 9, 0.9, 0.4, 0.08, 0, 1.5, 1.0, 0.5, "qualified", 1, None, None),
    "health_psychologist": ("Health psychologists", 2, 9, 0.9, 0.8, 0.08, 45000, 1.5, 1.0, 0.0, "qualified", 1, 1.0, 0.0),
    "child_adolescent_psychotherapist": ("Child and adolescent psychotherapists", 4, 9, 0.9, 0.9, 0.07, 60000, 2.0, 1.0, 0.5, "qualified", 1, 0.25, 0.0),
    "adult_psychotherapist": ("Adult psychotherapists and other psychological therapists", 2, 9, 0.9, 0.9, 0.08, 30000, 1.5, 1.0, 0.5, "qualified", 1, 0.5, 0.1),
    "cbt_therapist": ("Cognitive behavioural therapists (high intensity)", 1, 9, 0.9, 0.9, 0.1, 42000, 1.5, 0.75, 0.5, "posts", 1, 0.3, 0.1),
    "counsellor": ("Counsellors", 2, 9, 0.9, 0.85, 0.1, 35000, 1.5, 0.5, 0.4, "qualified", 1, None, 0.1),
    "family_systemic_psychotherapist": ("Family and systemic psychotherapists", 4, 9, 0.85, 0.9, 0.07, 9000, 1.0, 1.0, 0.0, "qualified", 1, 0.5, 0.0),
    "pwp": ("Psychological wellbeing practitioners", 1, 9, 0.9, 0.95, 0.14, 30000, 1.0, 0.5, 0.5, "posts", 1, 0.3, 0.1),
    "cwp": ("Children's wellbeing practitioners", 1, 1, 0.9, 0.9, 0.2, 30000, 1.0, 0.25, 0.5, "posts", 1, 0.3, 0.1),
    "emhp": ("Education mental health practitioners", 1, 1, 0.9, 0.9, 0.15, 32000, 1.5, 0.25, 0.5, "posts", 1, 0.5, 0.1),
    "mhwp": ("Mental health and wellbeing practitioners", 1, 6, 0.9, 0.9, 0.15, 32000, 1.5, 0.0, 0.5, "posts", 1, None, 0.1),
}
PROF_COLS = ["profession", "name", "duration_years", "start_month", "completion_rate", "joining_rate",
             "attrition_rate", "cost_per_trainee_year_gbp", "supervision_hours_per_trainee",
             "supervisor_hours_per_wte", "trainee_service_wte", "service_basis", "weight", "max_growth",
             "max_decline"]

# service by training year (n = 1..d for the non-April starts used here)
SERVICE = {
    "clinical_psychologist": [0, 0.3, 0.3],
    "counselling_psychologist": [0, 0.3, 0.3],
    "forensic_psychologist": [0, 0.5],
    "health_psychologist": [0, 0],
    "child_adolescent_psychotherapist": [0, 0.5, 0.5, 0.5],
    "adult_psychotherapist": [0, 0.5],
    "cbt_therapist": [0.5],
    "counsellor": [0, 0.4],
    "family_systemic_psychotherapist": [0, 0, 0, 0],
    "pwp": [0.5],
    "cwp": [0.5],
    "emhp": [0.5],
    "mhwp": [0.5],
}

# ---------------------------------------------------------------- pipeline (national cohorts)
PIPE = {
    "clinical_psychologist": {2017: 600, 2018: 600, 2019: 600, 2020: 750},
    "counselling_psychologist": {2017: 150, 2018: 150, 2019: 150, 2020: 150},
    "forensic_psychologist": {2018: 30, 2019: 30, 2020: 30},
    "health_psychologist": {2020: 7},
    "child_adolescent_psychotherapist": {2016: 40, 2017: 40, 2018: 40, 2019: 40, 2020: 50},
    "adult_psychotherapist": {2018: 150, 2019: 200, 2020: 300},
    "cbt_therapist": {2019: 1000, 2020: 1000},
    "family_systemic_psychotherapist": {2016: 60, 2017: 60, 2018: 60, 2019: 60, 2020: 90},
    "pwp": {2019: 900, 2020: 900},
    "cwp": {2017: 400, 2018: 500, 2019: 500, 2020: 500},
    "emhp": {2018: 200, 2019: 350, 2020: 450},
}

# ---------------------------------------------------------------- baseline and back-cast
# March 2020 baseline (the seed's "about 16,000 in 2019"; year 2019 = 2019/20 ends 31 March 2020)
BASELINE_2019 = {
    "clinical_psychologist": 5900, "counselling_psychologist": 290, "forensic_psychologist": 150,
    "health_psychologist": 30, "child_adolescent_psychotherapist": 500, "adult_psychotherapist": 750,
    "cbt_therapist": 4010, "counsellor": 970, "family_systemic_psychotherapist": 510, "pwp": 2090,
    "cwp": 800, "emhp": 0, "mhwp": 0,
}
# High Intensity trainees' sources in the 2020/21 cohort (ASSUMPTION, SOURCES.md): 40 % PWPs,
# 5 % counsellors, 55 % from outside IAPT. Used by the back-cast (a historical draw) and to
# derive the inside-IAPT mix of the cbt_therapist main route.
HISTORICAL_SOURCES = {("cbt_therapist", "pwp"): 0.40, ("cbt_therapist", "counsellor"): 0.05}
# professions whose back-cast residual has a recurring source the seed names (SOURCES.md)
RECURRING = ["counselling_psychologist", "adult_psychotherapist", "counsellor",
             "family_systemic_psychotherapist"]


# ---------------------------------------------------------------- levers (MODEL.md version 2)
# cbt_therapist main route = High Intensity trainees recruited from inside IAPT (PWPs and IAPT
# counsellors), in their 2020/21 proportions 40 : 5 (recruitment_sources.csv, DERIVED below);
# the routes below add the other ways in. Columns as ROUTE_COLS; None = blank.
ROUTE_COLS = ["profession", "route", "duration_years", "start_month", "completion_rate", "joining_rate",
              "cost_per_trainee_year_gbp", "supervision_hours_per_trainee", "source_profession",
              "source_draw", "max_share"]
ROUTES = [
    # High Intensity CBT from outside IAPT (other NHS professions, CYP IAPT recruit-to-train, outside
    # the NHS): the main route's course, no draw on a modelled stock, capped by the pool
    ("cbt_therapist", "hi_outside_iapt", 1, 9, 0.9, 0.9, 42000, 1.5, None, None, 0.7),
    # PWP apprenticeship (level 6, 12 months to gateway + 3 months end-point assessment): a
    # September start finishes its 15 months inside the next year, as d = 1 says; 15 months of the
    # main route's yearly cost (salary as for the main route; fee from the levy) over one model year
    ("pwp", "apprenticeship", 1, 9, 0.9, 0.95, 37500, 1.0, None, None, 0.2),
    # family and systemic psychotherapy apprenticeship "for entry from 2022" (Table 3 action 9):
    # January starts (intake year 2021/22 = January 2022), the whole 4-year route: two stages at the
    # Masters route's fees, the 24-month apprenticeship at its levy band: (2 x 9,000 + 16,000) / 4
    ("family_systemic_psychotherapist", "apprenticeship", 4, 1, 0.85, 0.9, 8500, 1.0, None, None, 0.2),
    # part-time upskilling of qualified counsellors in a therapy for severe mental health problems
    # (MBT, EMDR, DBT...): one year, half of the post moves to the new therapy
    ("adult_psychotherapist", "upskill_counsellors", 1, 9, 0.95, 0.5, 6000, 1.0, "counsellor", 0.5, 0.3),
]

# retention: profession, tranche, max_share_of_leavers, cost_per_wte_year_gbp, first_year
# (blank region: each region on its own)
RETENTION = [
    ("pwp", 1, 0.25, 20000, 2022),  # senior PWP career-progression posts (6.1, 5.1.11)
    ("pwp", 2, 0.15, 40000, None),  # wider measures against burn-out (6.1), under way
    ("cwp", 1, 0.25, 20000, 2023),  # senior CWP roles, "considering the development" (6, 6.2)
    ("emhp", 1, 0.25, 20000, 2023),  # senior EMHP supervisor roles "in development" (5.1.7, 6.2)
]
# direct recruitment: lead_time_years, cost_per_wte_gbp, first_year_attrition, national cap (signed a year)
INITIATIVE_SHARE = 0.5  # of the counsellor and adult psychotherapist recurring residual (SOURCES.md)
INITIATIVE = ["counsellor", "adult_psychotherapist"]
RECRUIT = {
    "counsellor": (0, 10000, 0.15),
    "adult_psychotherapist": (0, 10000, 0.15),
    "clinical_psychologist": (1, 12000, 0.20),
}
CP_INTERNATIONAL_CAP = 70  # about 1 % of the 6,850 WTE clinical psychologists of March 2021, rounded to 10


def initiative_split(residual):
    """Recurring residual (national, whole WTE) -> (inflow kept, net part the recruitment lever now
    carries). The lever part is floor(INITIATIVE_SHARE x residual); the inflow keeps the rest."""
    lever = math.floor(INITIATIVE_SHARE * residual)
    return residual - lever, lever


def completion_lag(d, m):
    return d - 1 if m == 4 else d


def backcast(stock2021):
    """S_2020 = (1 - a) S_2019 + j c I[2020 - Q] - sum_q share[q,p] I[q, 2020] (no inflows),
    with the 2020/21 cohort's historical sources (HISTORICAL_SOURCES), not the decision-year ones."""
    sources = [{"trainee_profession": q, "source_profession": p, "share": share}
               for (q, p), share in HISTORICAL_SOURCES.items()]
    out = {}
    for p, v in PROF.items():
        d, m, c, j, a = v[1], v[2], v[3], v[4], v[5]
        q = completion_lag(d, m)
        joined = j * c * PIPE.get(p, {}).get(BASE - q, 0)
        drawn = sum(float(s["share"]) * PIPE[s["trainee_profession"]].get(BASE, 0)
                    for s in sources if s["source_profession"] == p)
        s = (1 - a) * BASELINE_2019[p] + joined - drawn
        out[p] = dict(leavers=a * BASELINE_2019[p], joined=joined, drawn=drawn, backcast=s,
                      stock=stock2021[p], residual=stock2021[p] - s)
    return out


def main():
    workforce = read("workforce.csv")
    stock = {p: 0.0 for p in PROF}
    for row in workforce:
        stock[row["profession"]] += float(row["stock_wte"])

    write("professions.csv", PROF_COLS,
          [[p, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], fmt(v[12]), fmt(v[13])]
           for p, v in PROF.items()])

    write("trainee_service.csv", ["profession", "training_year", "service_wte"],
          [[p, n + 1, fmt(float(s))] for p, ss in SERVICE.items() for n, s in enumerate(ss)])

    pipe_rows = []
    regional_pipe = {}
    for p, cohorts in PIPE.items():
        for year, n in sorted(cohorts.items()):
            if p == "health_psychologist":
                reg = {r: 1 for r in REGIONS}
            else:
                reg = split(n, shares(p))
            regional_pipe[(p, year)] = reg
            pipe_rows += [[p, r, year, reg[r]] for r in REGIONS]
    write("pipeline.csv", ["profession", "region", "start_year", "trainees"], pipe_rows)

    # demand: version-1 path for 2021..2023 (MHWP 2021 and 2022 corrected), held at 2023 to 2027
    old = {(r["profession"], r["region"], int(r["year"])): float(r["demand_wte"]) for r in read("demand.csv")
           if int(r["year"]) in (2021, 2022, 2023)}
    mhwp2022 = split(75, POP)
    for r in REGIONS:
        old[("mhwp", r, 2021)] = 0
        old[("mhwp", r, 2022)] = mhwp2022[r]
    dem = []
    for p in PROF:
        for y in YEARS:
            for r in REGIONS:
                dem.append([p, r, y, fmt(old[(p, r, min(y, TARGET))])])
    write("demand.csv", ["profession", "region", "year", "demand_wte"], dem)

    # capacity
    cap_old = {(r["profession"], r["region"], int(r["year"])): r for r in read("capacity.csv")}
    cap = {}

    def put(p, r, y, col, value):
        cap.setdefault((p, r, y), {"placement_capacity": None, "intake_min": None, "intake_max": None})[col] = value

    for (p, r, y), row in cap_old.items():
        if row["placement_capacity"]:
            put(p, r, y, "placement_capacity", int(row["placement_capacity"]))
    for p in {k[0] for k in cap_old}:
        for r in REGIONS:
            last = cap_old.get((p, r, TARGET))
            if last and last["placement_capacity"]:
                for y in SUSTAIN:
                    put(p, r, y, "placement_capacity", int(last["placement_capacity"]))
    cp2024 = split(3200, POP)
    for r in REGIONS:
        for y in SUSTAIN:
            put("clinical_psychologist", r, y, "placement_capacity", cp2024[r])
    # seed-based 2021 minimum intakes (version-1 values, kept)
    for p in ("clinical_psychologist", "child_adolescent_psychotherapist", "emhp"):
        for r in REGIONS:
            put(p, r, 2021, "intake_min", int(cap_old[(p, r, 2021)]["intake_min"]))
    for r in REGIONS:
        put("mhwp", r, 2021, "intake_max", 0)
    # fixed (not commissioned) intakes: self-funded counselling psychology, employer-funded forensic
    for p in ("counselling_psychologist", "forensic_psychologist"):
        reg = regional_pipe[(p, BASE)]
        for r in REGIONS:
            for y in YEARS:
                put(p, r, y, "intake_min", reg[r])
                put(p, r, y, "intake_max", reg[r])
    # counsellor pilot: 100 / 200 / 300, then held at 300
    for y in YEARS:
        reg = split(100 * min(y - BASE, 3), POP)
        for r in REGIONS:
            put("counsellor", r, y, "intake_max", reg[r])
    order = {p: i for i, p in enumerate(PROF)}
    write("capacity.csv", ["profession", "region", "year", "placement_capacity", "intake_min", "intake_max"],
          [[p, r, y, fmt(v["placement_capacity"]), fmt(v["intake_min"]), fmt(v["intake_max"])]
           for (p, r, y), v in sorted(cap.items(), key=lambda kv: (order[kv[0][0]], kv[0][2], REGIONS.index(kv[0][1])))])

    # inflows: the recurring part of the back-cast residual, every decision year
    bc = backcast(stock)
    inflow_rows = []
    lever_net = {}
    for p in RECURRING:
        national = math.floor(bc[p]["residual"] + 0.5)  # half up: 138.5 -> 139
        if p in INITIATIVE:  # the recruitment initiative's part moves to recruitment.csv
            national, lever_net[p] = initiative_split(national)
        reg = split(national, shares(p))
        for y in YEARS:
            inflow_rows += [[p, r, y, reg[r]] for r in REGIONS]
    write("inflows.csv", ["profession", "region", "year", "inflow_wte"], inflow_rows)

    # levers: High Intensity sources of the main route, routes, retention, direct recruitment
    inside = sum(HISTORICAL_SOURCES.values())
    write("recruitment_sources.csv", ["trainee_profession", "source_profession", "share"],
          [[q, p, fmt(round(share / inside, 2))] for (q, p), share in HISTORICAL_SOURCES.items()])
    write("routes.csv", ROUTE_COLS, [[fmt(v) for v in row] for row in ROUTES])
    write("retention.csv", ["profession", "region", "tranche", "max_share_of_leavers", "cost_per_wte_year_gbp",
                            "first_year"],
          [[p, "", n, fmt(share), cost, fmt(first)] for p, n, share, cost, first in RETENTION])
    caps = {p: round(lever_net[p] / (1 - RECRUIT[p][2])) for p in INITIATIVE}  # signed, so that net = lever part
    caps["clinical_psychologist"] = CP_INTERNATIONAL_CAP
    rec_rows = []
    for p in ("clinical_psychologist", "adult_psychotherapist", "counsellor"):
        lead, cost, e = RECRUIT[p]
        reg = split(caps[p], POP)
        rec_rows += [[p, r, lead, cost, reg[r], fmt(e)] for r in REGIONS]
    write("recruitment.csv", ["profession", "region", "lead_time_years", "cost_per_wte_gbp", "max_wte_per_year",
                              "first_year_attrition"], rec_rows)

    # budget rule: steady-state annual cost of the 2021/22 commissioning round (plus MHWP from 2022)
    mult = {r["region"]: float(r["cost_multiplier"]) for r in read("regions.csv")}
    rnd = {}
    for p in ("clinical_psychologist", "child_adolescent_psychotherapist", "emhp"):
        rnd[p] = {r: int(cap_old[(p, r, 2021)]["intake_min"]) for r in REGIONS}
    for p in ("family_systemic_psychotherapist", "health_psychologist", "adult_psychotherapist",
              "cbt_therapist", "pwp", "cwp"):
        rnd[p] = regional_pipe[(p, BASE)]
    rnd["counsellor"] = split(100, POP)
    rnd["mhwp"] = split(250, POP)
    total = 0.0
    detail = {}
    for p, reg in rnd.items():
        v = PROF[p]
        cost = sum(v[6] * v[1] * mult[r] * n for r, n in reg.items())
        detail[p] = (sum(reg.values()), cost)
        total += cost
    budget = round(total / 1e6) * 1_000_000
    write("budget.csv", ["year", "region", "budget_gbp"], [[y, "", budget] for y in YEARS])

    (DATA / "settings.yaml").write_text(
        "# England default dataset (MODEL.md version 2): see SOURCES.md for every figure's origin\n"
        f"base_year: {BASE}\n"
        f"target_year: {TARGET}\n"
        f"horizon_end: {HORIZON}\n"
        f"assessed_years: [{TARGET}]\n"
        "# sustain_years: default = the decision years after the last assessed year (2024..2027)\n"
        "integer_places: false\n"
        "solver: cbc\n"
        "time_limit_seconds: 60\n")

    print("back-cast 2020/21 (national):")
    for p, b in bc.items():
        print(f"  {p:34s} base {BASELINE_2019[p]:6.0f} leavers {b['leavers']:7.1f} joined {b['joined']:6.1f} "
              f"drawn {b['drawn']:5.1f} back-cast {b['backcast']:8.1f} stock {b['stock']:6.0f} residual {b['residual']:7.1f}")
    print("  total back-cast", round(sum(b["backcast"] for b in bc.values()), 1),
          "stock", sum(stock.values()), "residual", round(sum(b["residual"] for b in bc.values()), 1))
    print("budget rule:")
    for p, (n, c) in detail.items():
        print(f"  {p:34s} intake {n:5d} steady-state cost {c / 1e6:8.3f}m")
    print(f"  total {total / 1e6:.3f}m -> budget {budget}")
    print("recruitment initiative (net part of the recurring residual moved to the lever):", lever_net,
          "signed caps:", caps)


if __name__ == "__main__":
    main()
