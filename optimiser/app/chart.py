"""Places to commission by profession and year, as an inline SVG stacked bar chart.

Drawn as text here (no plotting library, no scripts, nothing fetched), so the page
stays fast and works offline.
"""

from __future__ import annotations

from html import escape

import pandas as pd

WIDTH_PX, HEIGHT_PX = 860, 300
MARGIN_LEFT_PX, MARGIN_BOTTOM_PX, MARGIN_TOP_PX = 56, 28, 12
LEGEND_WIDTH_PX = 350
LEGEND_ROW_PX = 16
BAR_FILL = 0.7  # share of a year's slot the bar takes
GRID_LINES = 4
#: Colour-blind safe qualitative palette (Okabe-Ito, then Tol's muted), cycled.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
           "#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#AA4499", "#882255")


def _nice_top(value: float) -> float:
    if value <= 0:
        return 1.0
    step = 10 ** (len(str(int(value))) - 1)
    return float((int(value / step) + 1) * step)


def places_svg(table: pd.DataFrame, names) -> str:
    """``table``: places, a row per profession and a column per year (``answer.places_by_profession_year``)."""
    if table.empty:
        return "<p>No plan to draw.</p>"
    years = list(table.columns)
    totals = table.sum(axis=0)
    top = _nice_top(float(totals.max()))
    plot_w = WIDTH_PX - MARGIN_LEFT_PX - LEGEND_WIDTH_PX
    plot_h = HEIGHT_PX - MARGIN_BOTTOM_PX - MARGIN_TOP_PX
    slot = plot_w / len(years)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{WIDTH_PX}" height="{HEIGHT_PX}" '
             f'viewBox="0 0 {WIDTH_PX} {HEIGHT_PX}" aria-label="Places to commission by profession and year" '
             'font-family="sans-serif" font-size="11">']
    for i in range(GRID_LINES + 1):
        value = top * i / GRID_LINES
        y = MARGIN_TOP_PX + plot_h * (1 - i / GRID_LINES)
        parts.append(f'<line x1="{MARGIN_LEFT_PX}" x2="{MARGIN_LEFT_PX + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
                     'stroke="#ddd"/>')
        parts.append(f'<text x="{MARGIN_LEFT_PX - 4}" y="{y + 4:.1f}" text-anchor="end">{value:,.0f}</text>')
    colours = {p: PALETTE[i % len(PALETTE)] for i, p in enumerate(table.index)}
    for j, year in enumerate(years):
        x = MARGIN_LEFT_PX + slot * j + slot * (1 - BAR_FILL) / 2
        base = 0.0
        for profession in table.index:
            value = float(table.loc[profession, year])
            if value <= 0:
                continue
            y0 = MARGIN_TOP_PX + plot_h * (1 - (base + value) / top)
            h = plot_h * value / top
            parts.append(f'<rect x="{x:.1f}" y="{y0:.1f}" width="{slot * BAR_FILL:.1f}" height="{h:.1f}" '
                         f'fill="{colours[profession]}"><title>{escape(names(profession))} {escape(year)}: '
                         f'{value:,.1f} places</title></rect>')
            base += value
        parts.append(f'<text x="{x + slot * BAR_FILL / 2:.1f}" y="{HEIGHT_PX - MARGIN_BOTTOM_PX + 16}" '
                     f'text-anchor="middle">{escape(year)}</text>')
    legend_x = WIDTH_PX - LEGEND_WIDTH_PX + 12
    for i, profession in enumerate(table.index):
        y = MARGIN_TOP_PX + i * LEGEND_ROW_PX
        parts.append(f'<rect x="{legend_x}" y="{y}" width="10" height="10" fill="{colours[profession]}"/>')
        parts.append(f'<text x="{legend_x + 14}" y="{y + 9}">{escape(names(profession))}</text>')
    parts.append("</svg>")
    return "".join(parts)
