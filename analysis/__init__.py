"""Analysis of what the model writes, by capability.

- ``analysis.runs``: replications of a scenario on any executor (the one ensemble
  runner), provenance of an output folder, worker checks for a cluster.
- ``analysis.compare``: paired comparisons of two scenarios, their statistics, report
  and plots.
- ``analysis.sweeps``: sweep specs, sample plans, the resumable result store, running
  a sweep locally or on a Dask cluster.
- ``analysis.sensitivity``: indices (Sobol, Morris), main effects, indices over time,
  convergence of a sweep, known-answer test functions, the choice of analysis.
- ``analysis.fit``: diffusion closed forms, calibration to observed sales, the
  cost-sigma frontier.
- ``analysis.dashboard`` and ``analysis.classroom``: teaching.
- ``analysis.adapters``: the EMA Workbench and Mesa batch-run adapters.

``analysis.plots`` and ``analysis.html`` are the figure and page helpers they share.
Analysis reads what ``sim`` writes and never imports the command line.
"""
