"""Growth and decline limits: how fast each profession's national intake may grow or fall."""

from __future__ import annotations

from optimiser.model import CommissionModel, Lin
from optimiser.registry import GE, LE, Family

#: The limit group a user lifts these rows with (``build_model(lift=...)``, the why-split);
#: ``None``: always in force.
LIFT: str | None = "growth"
#: How the why-split names the limit group.
LIFT_TITLE = "Growth and decline limits"
#: Dataset columns that reach these rows only as right-hand sides.
RHS_COLUMNS: tuple[tuple[str, str], ...] = ()
#: Dataset columns that reach these rows as coefficients.
COEFFICIENT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("professions", "max_decline"),
    ("professions", "max_growth"),
)


FAMILIES = (
    Family("growth", "trainee of national intake", title="Growth limit", conflict_unit="trainees",
           conflict=lambda w: (f"{w.profession} national intake in {w.year} must exceed its growth limit by "
                               f"{w.amount:,.1f} trainees"),
           marginal=lambda w: (f"Letting the national intake of {w.profession} in {w.year} grow by one more trainee "
                               f"is worth {w.closes}.")),
    Family("decline", "trainee less of national intake", title="Decline limit", conflict_unit="trainees",
           conflict=lambda w: (f"{w.profession} national intake in {w.year} must fall below its decline limit by "
                               f"{w.amount:,.1f} trainees"),
           marginal=lambda w: (f"Letting the national intake of {w.profession} in {w.year} fall by one more trainee "
                               f"than its decline limit allows is worth {w.closes}.")),
)


def define(m: CommissionModel) -> None:
    """On the national intake ``X[p,t] = sum over k, r of I[p,k,r,t]``, for each decision year t::

        growth  (max_growth g):   X[p,t] <= (1 + g) * X[p,t-1]
        decline (max_decline δ):  X[p,t] >= (1 - δ) * X[p,t-1]

    For the first decision year, ``X[p,t-1]`` is the pipeline's base-year intake (a
    profession with none and a ``max_growth`` can take no trainees).
    """
    ds, st = m.dataset, m.settings
    for p in ds.professions:
        for t in st.decision_years:
            if p.max_growth is not None:
                lin = Lin()
                m.national_intake(lin, p.profession, t, 1.0)
                m.national_intake(lin, p.profession, t - 1, -(1.0 + p.max_growth))
                m.add_constraint("growth", p.profession, None, t, lin, LE, 0.0)
            if p.max_decline is not None:
                lin = Lin()
                m.national_intake(lin, p.profession, t, 1.0)
                m.national_intake(lin, p.profession, t - 1, -(1.0 - p.max_decline))
                m.add_constraint("decline", p.profession, None, t, lin, GE, 0.0)
