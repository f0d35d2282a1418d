"""Reports people read: an Excel workbook, a self-contained HTML page with charts, the reasons
behind the shortfall (computed by ``optimiser.whatif.why``) and the sentences they are told in.

Heavy libraries (matplotlib, Jinja2, openpyxl) are imported inside the functions that use
them, so ``optimiser run`` does not pay for them.
"""
