"""Pause Python's cyclic garbage collector during the allocation-heavy phases.

Loading, building, writing the MPS file, reading a solution and making the
results tables each allocate hundreds of thousands of small objects (rows,
dictionaries, PuLP variables and constraints, tuples) and create no reference
cycles. Every few hundred allocations the collector scans the young objects,
and every so often the whole heap; on a large model that scanning is a third
of these phases' time and grows faster than the model. Reference counting
still frees everything as usual; the collector runs again when the phase ends.
``pipeline.run`` pauses it for the whole job (the model and its results hold no
reference cycles); the phases pause it themselves for other callers.
"""

from __future__ import annotations

import contextlib
import functools
import gc


@contextlib.contextmanager
def gc_paused():
    """Disable the cyclic collector for the block (re-entrant; restores the previous state)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def without_gc(func):
    """Decorator: run ``func`` with the cyclic collector paused (see ``gc_paused``)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with gc_paused():
            return func(*args, **kwargs)

    return wrapper
