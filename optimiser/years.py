"""Financial years: an int (the calendar year the year starts) or the form ``2023/24``."""

from __future__ import annotations

import math
import re

_LABEL = re.compile(r"^\s*(\d{4})\s*[/-]\s*(\d{2}|\d{4})\s*$")


def parse_year(value: object) -> int:
    """Return the start year of ``value`` (``2023``, ``"2023"``, ``"2023/24"``, ``2023.0``).

    Raises ``ValueError`` with a sentence a user can act on.
    """
    if isinstance(value, bool):
        raise ValueError("expected a year such as 2023 or 2023/24")
    if isinstance(value, int):
        return _check_range(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return _check_range(int(value))
        raise ValueError("expected a year such as 2023 or 2023/24")
    text = str(value).strip()
    if re.fullmatch(r"\d{4}(\.0+)?", text):
        return _check_range(int(float(text)))
    match = _LABEL.match(text)
    if match:
        start, end = int(match.group(1)), match.group(2)
        expected_end = (start + 1) % (100 if len(end) == 2 else 10_000)
        if int(end) != expected_end:
            raise ValueError(
                f"'{text}' is not a financial year: {start}/ must be followed by "
                f"{format_year(start)[5:]}"
            )
        return _check_range(start)
    raise ValueError("expected a year such as 2023 or 2023/24")


def _check_range(year: int) -> int:
    if not 1900 <= year <= 2200:
        raise ValueError(f"{year} is not a plausible year (expected 1900..2200)")
    return year


def format_year(year: int) -> str:
    """``2023`` -> ``"2023/24"``."""
    return f"{year}/{(year + 1) % 100:02d}"
