"""A class on a room's network, in Chromium: the server in one network namespace,
the students' browser in another, joined by a veth pair with addresses this test
assigns. Trainer, projector and three teams each have their own browser context.

Traffic goes to loopback and these two namespaces only: the server is bound to
every interface of its namespace (lo and the veth end) and prints the room address
it found there; the browser's contexts abort any request to another address.
The namespaces are removed in a ``finally``. Needs root (``ip netns``) and Debian's
Chromium at /usr/bin/chromium. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.test_classroom_server import ARTIFACTS, DEMANDSIM, ENV, REPO

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_IP, BROWSER_IP = "10.213.77.1", "10.213.77.2"
PORT = 8766


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


@contextlib.contextmanager
def room_network() -> Iterator[tuple[str, str]]:
    """Two namespaces (server, students) joined by a veth pair: 10.213.77.1 and .2/24."""
    tag = str(os.getpid())
    srv, web = f"cls-srv-{tag}", f"cls-web-{tag}"
    try:
        _ip("netns", "add", srv)
        _ip("netns", "add", web)
        _ip("link", "add", f"vs{tag}", "type", "veth", "peer", "name", f"vw{tag}")
        _ip("link", "set", f"vs{tag}", "netns", srv)
        _ip("link", "set", f"vw{tag}", "netns", web)
        for ns, dev, addr in ((srv, f"vs{tag}", SERVER_IP), (web, f"vw{tag}", BROWSER_IP)):
            _ip("-n", ns, "addr", "add", f"{addr}/24", "dev", dev)
            _ip("-n", ns, "link", "set", dev, "up")
            _ip("-n", ns, "link", "set", "lo", "up")
        yield srv, web
    finally:
        for ns in (srv, web):  # removing a namespace removes its end of the veth pair
            with contextlib.suppress(subprocess.CalledProcessError):
                _ip("netns", "del", ns)


@contextlib.contextmanager
def inside(ns: str) -> Iterator[None]:
    """This thread (and the processes it starts) in network namespace ``ns``."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{ns}", os.O_RDONLY)
    try:
        os.setns(target, os.CLONE_NEWNET)
        yield
    finally:
        os.setns(home, os.CLONE_NEWNET)
        os.close(home)
        os.close(target)


def _serve(ns: str, db: Path, log: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    """``demandsim classroom --host 0.0.0.0`` in namespace ``ns``; (process, printed
    trainer link's base, key)."""
    with open(log, "w") as out:
        proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, *DEMANDSIM, "classroom", "--db", str(db)]
            + ["--host", "0.0.0.0", "--port", str(PORT)],
            stdout=out, stderr=subprocess.STDOUT, cwd=REPO, env=ENV, start_new_session=True,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, log.read_text()
        found = re.search(r"Trainer page: (\S+)/\?key=(\S+)", log.read_text())
        if found:
            return proc, found.group(1), found.group(2)
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)


def _status(page: Any) -> str:
    return str(page.inner_text("[data-testid=status]"))


def test_a_class_on_the_rooms_network(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is needed at /usr/bin/chromium"
    ARTIFACTS.mkdir(exist_ok=True)
    outside: list[str] = []
    with room_network() as (srv, web):
        proc, base, key = _serve(srv, tmp_path / "class.sqlite", tmp_path / "server.log")
        try:
            # the printed link uses the address students reach, found on the interfaces
            assert base == f"http://{SERVER_IP}:{PORT}"
            with inside(web), sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    _play(browser, base, key, outside)
                finally:
                    browser.close()
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
    assert outside == []


def _play(browser: Any, base: str, key: str, outside: list[str]) -> None:
    def only_the_room(route: Any) -> None:
        if route.request.url.startswith((base + "/", "data:")):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    def context() -> Any:
        ctx = browser.new_context(viewport={"width": 1100, "height": 900})
        ctx.set_default_timeout(120_000)  # a machine shared with other work can be slow
        ctx.route("**/*", only_the_room)
        return ctx

    # the trainer opens the printed link once: the key moves to a cookie
    trainer_ctx = context()
    trainer = trainer_ctx.new_page()
    trainer.goto(f"{base}/?key={key}")
    assert trainer.url == f"{base}/"
    cookie = next(c for c in trainer_ctx.cookies() if c["name"] == "classroom_trainer")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["value"] == key
    for name, value in {"customers": "300", "teams": "3", "rounds": "3", "budget": "1e9"}.items():
        trainer.fill(f"form.create [name={name}]", value)
    trainer.fill("form.create [name=steps_per_round]", "13")
    trainer.fill("[name=team_names]", "Sharp eyes\nSleepy eyes\nSteady hands")
    trainer.click("[data-testid=create]")
    trainer.wait_for_selector("a.team-link")
    sid = trainer.url.rsplit("/", 1)[1]
    assert key not in trainer.content() and "key=" not in trainer.url
    links = [str(a.get_attribute("href")) for a in trainer.locator("a.team-link").all()]
    assert len(links) == 3 and all(link.startswith(f"{base}/j/") for link in links)
    assert trainer.locator("svg.segno").count() == 3  # a QR code per team
    codes = trainer.locator("[data-testid=join-code]").all_inner_texts()

    # the projector: no key, no codes, no truth
    projector = context().new_page()
    projector.goto(f"{base}/s/{sid}/projector")
    assert "Round 1 of 3" in _status(projector)

    # three teams, each in its own browser: the join link sets a cookie and leaves the URL
    teams = []
    for link in links:
        ctx = context()
        page = ctx.new_page()
        page.goto(link)
        assert re.fullmatch(rf"{re.escape(base)}/s/{sid}/team/\d", page.url), page.url
        team_cookie = next(c for c in ctx.cookies() if c["name"] == "classroom_team")
        assert team_cookie["httpOnly"] and team_cookie["value"] not in page.content()
        teams.append((ctx, page))
    sharp, sleepy, steady = (p for _, p in teams)
    assert sharp.inner_text("[data-testid=team-name]") == "Sharp eyes"
    assert sharp.locator(".help").count() == 5  # one help line per lever

    # a draft survives other teams' submissions
    steady.fill("#f-density", "0.123")
    steady.click("h1")  # the field loses focus: nothing holds a reload back
    sharp.fill("#f-density", "0.3")
    sharp.click("[data-testid=submit]")
    assert "recorded" in sharp.inner_text("[data-testid=message]")
    sleepy.click("[data-testid=submit]")
    steady.wait_for_function(
        "() => document.querySelector('[data-live=submitted]').textContent === '2'"
    )
    time.sleep(3.5)  # two more polls
    assert steady.input_value("#f-density") == "0.123"

    # the trainer clicks Close: asked first; a stale page of a team keeps round 1
    trainer.click("[data-testid=close-round]")
    assert "Close round 1 now? 2 of 3 teams submitted" in trainer.inner_text(
        "[data-testid=confirm-text]"
    )
    stale = teams[0][0].new_page()
    stale.goto(f"{base}/s/{sid}/team/0")
    stale.fill("#f-density", "0.01")  # focus stays in the form: this page does not reload
    steady.click("[data-testid=submit]")  # the last one in: round 1 runs by itself
    sharp.wait_for_selector("[data-testid=accounts]", timeout=60_000)
    assert "Round 2 of 3" in _status(sharp)
    trainer.click("[data-testid=confirm-close]")  # three seconds late
    assert trainer.inner_text("[data-testid=message]").startswith(
        "Close for round 1 refused: the session is now at round 2 (open). Nothing was changed"
    )
    stale.click("[data-testid=submit]")
    assert stale.inner_text("[data-testid=message]").startswith("Decision for round 1 refused")
    trainer.goto(f"{base}/s/{sid}")
    assert "Round 2 of 3: 0 of 3 teams submitted" in _status(trainer)

    # the team sees its history and why its profit moved; the projector shows no truth
    assert sharp.locator("[data-testid=accounts] tr").count() == 2
    projector.wait_for_selector("[data-testid=leaderboard]", timeout=30_000)
    text = projector.content()
    assert key not in text and not any(c in text for c in codes)
    assert "team/" not in text and "/j/" not in text and "market share" not in text
    assert "key=" not in projector.url and "code" not in projector.url
    trainer.click("[data-testid=set-deadline]")
    projector.wait_for_function(
        "() => /\\d+:\\d\\d left/.test(document.getElementById('timer').textContent)"
    )
    projector.screenshot(path=str(ARTIFACTS / "classroom-projector.png"))
    trainer.click("[data-testid=toggle-reveal]")
    projector.wait_for_function("() => document.body.textContent.includes('true market share')")

    sharp.screenshot(path=str(ARTIFACTS / "classroom-team.png"), full_page=True)
    trainer.screenshot(path=str(ARTIFACTS / "classroom-trainer.png"), full_page=True)
    sharp.reload()
    sharp.click("[data-testid=team-debrief]")
    assert sharp.locator("div.team").count() == 3
    sharp.screenshot(path=str(ARTIFACTS / "classroom-debrief.png"), full_page=True)
