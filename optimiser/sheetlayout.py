"""Layout that both workbooks share (the dataset workbook and the results workbook), with openpyxl.

Column widths fitted to what a cell shows, and a print set-up that puts every
sheet on A4 landscape, one page wide, with its header row repeated on every
page. Wrapped text gets a row height that shows all of it (Excel does not size
rows for text it did not lay out itself, so long sentences would overlap).
"""

from __future__ import annotations

import math

#: Column widths, in characters: never narrower or wider than these.
MIN_WIDTH_CHARS, MAX_WIDTH_CHARS = 8, 60
#: Room beside the widest value for the filter button and a margin.
WIDTH_PADDING_CHARS = 3
#: Points a line of wrapped 11-point text takes.
LINE_HEIGHT_POINTS = 15
#: Excel's largest row height.
MAX_ROW_HEIGHT_POINTS = 409
#: The paper a sheet prints on (9 is A4 in the OOXML paper-size table).
PAPER_A4 = 9


def fitted_width(widest_chars: int) -> int:
    """A column width (characters) for a column whose widest value shows ``widest_chars`` characters."""
    return max(MIN_WIDTH_CHARS, min(MAX_WIDTH_CHARS, widest_chars + WIDTH_PADDING_CHARS))


def wrapped_lines(text: str, width_chars: float) -> int:
    """Lines ``text`` takes when wrapped in a column ``width_chars`` wide (each line break counts)."""
    usable = max(1.0, width_chars - 1)
    return sum(max(1, math.ceil(len(line) / usable)) for line in str(text).splitlines() or [""])


def wrapped_height(text: str, width_chars: float) -> float:
    """The row height (points) that shows all of ``text`` wrapped in a column ``width_chars`` wide."""
    return min(MAX_ROW_HEIGHT_POINTS, LINE_HEIGHT_POINTS * wrapped_lines(text, width_chars))


def print_setup(sheet, header_rows: int = 1) -> None:
    """A4 landscape, fitted to one page wide (as many pages tall as it needs), header rows repeated."""
    from openpyxl.worksheet.properties import PageSetupProperties

    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = PAPER_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # 0: as many pages tall as the rows need
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_options.gridLines = False
    sheet.print_options.horizontalCentered = True
    if header_rows:
        sheet.print_title_rows = f"1:{header_rows}"
    sheet.oddFooter.center.text = "&A, page &P of &N"
