"""``optimiser app``: a what-if page for commissioners (Shiny for Python).

Layers, bottom up; only ``page`` and ``command`` import Shiny (the ``app`` extra):

- ``engine``: one dataset and one kept model per browser session; each what-if is a
  list of ``--set`` overrides, validated and solved exactly as ``optimiser run --set``
  does (``batch.solve_overrides`` with a ``reuse.SolveCache``, re-solved in place).
- ``changes``: the page's forms turned into override texts (budget, supervision,
  attrition, placements, target year, levers), one per value changed.
- ``answer``: a solved what-if in the commissioners' shape: headline, places, gaps,
  binding limits in the reports' sentences, the difference against the dataset as given.
- ``chart``: places by profession and year as inline SVG (no scripts, no network).
- ``upload``: an uploaded workbook, size-capped and read by the project's reader.
- ``downloads``: the workbook and HTML report the CLI writes, for the current what-if.
- ``limits``: an ASGI wrapper that refuses request bodies above the upload cap.
- ``page``: the Shiny user interface and server; ``command``: ``optimiser app``.
"""
