"""The classroom game (``demandsim classroom``): teams run the focal firm's platform
round by round on the same market, and a trainer debriefs what each platform believed
against what was true.

Modules:
    config: a session's settings (checked once) and a team's decision (checked per round).
    game: one team's model, how a decision is applied and what a round's result holds.
    store: the SQLite database of sessions, teams, decisions and results.
    service: sessions as a whole (create, submit, close and run rounds, resume by replay).
    layout: the shared HTML pieces (page shell, formats, poll and timer, inline SVG charts).
    pages: a team's page (decision form with help per lever, history, profit explained).
    trainer: the trainer's pages (sessions, a session, confirm close) and the projector.
    debrief: the leaderboard, the lesson in money, every team's beliefs against the truth.
    access: cookies in place of codes, CSRF tokens, bodies measured before they are read.
    network: the address students reach, the Host names answered, QR codes.
    server: the Starlette application serving them.
    cli: the ``demandsim classroom`` command.
"""
