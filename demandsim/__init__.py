"""The ``demandsim`` command line, in one package.

``demandsim.main`` is the entry point (sub-commands imported lazily, so ``demandsim
--help`` does not import Mesa); ``demandsim.errors`` is the one place that turns bad
input into one line and exit code 2; every other module is one command.
Numbers and tables are formatted by ``sim.tables`` (``fmt``, ``fmt_num``,
``render``), shared with the reports.
"""
