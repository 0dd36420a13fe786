"""``python -m demandsim``: the command line, as the ``demandsim`` script runs it."""

from demandsim.main import main

main()
