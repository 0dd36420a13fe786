"""The classroom game (``demandsim classroom``): teams run the focal firm's platform
round by round on the same market, and a trainer debriefs what each platform believed
against what was true.

Modules:
    config: a session's settings (checked once) and a team's decision (checked per round).
    game: one team's model, how a decision is applied and what a round's result holds.
    store: the SQLite database of sessions, teams, decisions and results.
    service: sessions as a whole (create, submit, close and run rounds, resume by replay).
    layout: the shared HTML pieces (page shell, formats, poll, inline SVG charts).
    pages: a team's page and the trainer's pages.
    debrief: the leaderboard and every team's beliefs against the truth (the report).
    server: the Starlette application serving them.
    cli: the ``demandsim classroom`` command.
"""
