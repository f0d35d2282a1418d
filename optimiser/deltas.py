"""Changes against a base row, as columns of a table of results (batch comparison, frontiers).

``with_changes`` adds ``<figure>_change_vs_<base>`` for each summary figure: the row's
figure minus the base row's, blank where either has no plan or there is no base row.
"""

from __future__ import annotations

from models.results import SUMMARY_FIGURES


def change_column(figure: str, base: str) -> str:
    return f"{figure}_change_vs_{base}"


def with_changes(table, base_index, base: str, figures=SUMMARY_FIGURES):
    """``table`` (a DataFrame holding ``figures``) with one change column per figure, placed
    after the figures; ``base_index`` is the base row's label (``None``: no base row, blank)."""
    import pandas as pd

    table = table.copy()
    position = max(table.columns.get_loc(f) for f in figures if f in table.columns) + 1
    for offset, figure in enumerate(figures):
        values = pd.to_numeric(table[figure], errors="coerce").astype("float64") if figure in table.columns \
            else pd.Series(float("nan"), index=table.index)
        change = values - values.loc[base_index] if base_index is not None else pd.Series(float("nan"),
                                                                                          index=table.index)
        table.insert(position + offset, change_column(figure, base), change)
    return table
