"""What-if analyses of a dataset, each a set of solves of changed models: ``frontier`` (the
shortfall against budget or a region's supervision over a range of scales, run as a batch),
``why`` (the target-year shortfall split into training time and each family of limits, by
Shapley values over the families in force) and ``diagnose`` (the smallest limit relaxations
that make an infeasible dataset feasible). ``commands`` registers ``optimiser frontier``.

Nothing is re-exported here: ``optimiser.solve`` imports ``diagnose`` (lazily) and ``why``
solves through ``optimiser.solve``, so importing one analysis loads none of the others.
Reports render the split (``optimiser.reports``); the computation lives here.
"""
