"""The classroom as a class meets it: ``demandsim classroom`` as a real process, a
trainer and two teams in headless Chromium, a restart mid-session, team codes
keeping teams apart, bad input over HTTP and on the command line.

The browser test needs Debian's Chromium at /usr/bin/chromium (``make browser``).
It saves screenshots of a team page and of the debrief under ``test-artifacts/``.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import CHROMIUM, CHROMIUM_ARGS

REPO = Path(__file__).resolve().parents[1]
DEMANDSIM = Path(sys.executable).parent / "demandsim"
ARTIFACTS = REPO / "test-artifacts"
SESSION = {
    "name": "Test class",
    "customers": "300",
    "teams": "2",
    "rounds": "3",
    "steps_per_round": "13",  # opportunities are judged at the response time, 13 steps
    "budget": "1000",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    key: str
    proc: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=20)


def _start(db: Path, log: Path) -> Server:
    """``demandsim classroom --db DB`` on a free port; waits for its trainer link."""
    port = _free_port()
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [str(DEMANDSIM), "classroom", "--db", str(db), "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, f"classroom exited early:\n{log.read_text()}"
        found = re.search(r"Trainer page: (\S+)/\?key=(\S+)", log.read_text())
        if found:
            with contextlib.suppress(OSError):
                _get(f"{url}/?key={found.group(2)}")
                return Server(url, found.group(2), proc, log)
        assert time.monotonic() < deadline, f"classroom did not answer:\n{log.read_text()}"
        time.sleep(0.2)


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=60) as resp:
            return int(resp.status), resp.read().decode()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read().decode()


def _post(url: str, form: dict[str, Any]) -> tuple[int, str, str]:
    """POST a form (following the redirect); (status, body, final address)."""
    data = urllib.parse.urlencode(form, doseq=True).encode()
    try:
        with urllib.request.urlopen(url, data=data, timeout=120) as resp:
            return int(resp.status), resp.read().decode(), resp.geturl()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read().decode(), url


def _create(server: Server, **extra: str) -> tuple[str, list[str]]:
    """A session made through the trainer's form; (its id, the team page addresses)."""
    status, body, where = _post(f"{server.url}/sessions", {"key": server.key, **SESSION, **extra})
    assert status == 200, body
    sid = re.search(r"/s/(\w+)\?key=", where)
    assert sid, where
    links = re.findall(r"class=team-link href='([^']+)'", body)
    return sid.group(1), [f"{server.url}{link}" for link in links]


def _message(body: str) -> str:
    found = re.search(r"data-testid=message>([^<]*)<", body)
    assert found, body[:2000]
    return html.unescape(found.group(1))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("classroom")
    srv = _start(tmp / "class.sqlite", tmp / "server.log")
    try:
        yield srv
    finally:
        srv.stop()


# --------------------------------------------------------------------------- browser


def _numbers(page: Any, selector: str, column: int) -> list[float]:
    cells = page.locator(f"{selector} tr td:nth-child({column})").all_inner_texts()
    return [float(c.replace(",", "").rstrip("%").replace("−∞", "-inf")) for c in cells]


def test_a_class_in_a_real_browser(server: Server) -> None:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is needed: run `make browser`"
    outside: list[str] = []

    def only_local(route: Any) -> None:
        if route.request.url.startswith(("http://127.0.0.1", "data:")):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            ctx = browser.new_context(viewport={"width": 1100, "height": 900})
            ctx.route("**/*", only_local)
            trainer = ctx.new_page()
            trainer.goto(f"{server.url}/?key={server.key}")
            for name, value in SESSION.items():
                trainer.fill(f"form.create [name={name}]", value)
            trainer.fill("[name=team_names]", "Sharp eyes\nSleepy eyes")
            trainer.click("[data-testid=create]")
            trainer.wait_for_selector("a.team-link")
            links = [str(a.get_attribute("href")) for a in trainer.locator("a.team-link").all()]
            assert len(links) == 2 and links[0] != links[1]

            sharp, sleepy = ctx.new_page(), ctx.new_page()
            sharp.goto(server.url + links[0])
            sleepy.goto(server.url + links[1])
            assert sharp.inner_text("[data-testid=team-name]") == "Sharp eyes"
            assert "Round 1 of 3" in sleepy.inner_text("[data-testid=status]")
            before = sharp.inner_text("[data-testid=believed]")
            assert before == sleepy.inner_text("[data-testid=believed]")  # one market

            # the estimate follows the inputs before anything is sent
            est0 = sharp.inner_text("#estimate")
            sharp.fill("#f-density", "0.3")
            sharp.fill("#f-coverage", "1")
            sharp.fill("#f-strength", "0.95")
            assert sharp.inner_text("#estimate") != est0
            sharp.click("[data-testid=submit]")
            assert "recorded" in sharp.inner_text("[data-testid=message]")
            trainer.wait_for_function(
                "() => document.querySelector('[data-testid=status]').textContent.includes('1 of 2')"
            )
            sleepy.fill("#f-density", "0.01")
            sleepy.fill("#f-coverage", "0.3")
            sleepy.select_option("select[name=targeting]", "homogeneous")
            sleepy.click("[data-testid=submit]")  # the last one in: the round runs

            # each team sees its own believed view after round 1, and no truth
            for page in (sleepy, sharp):
                page.wait_for_selector("[data-testid=accounts]", timeout=60_000)
                assert "Round 2 of 3" in page.inner_text("[data-testid=status]")
                text = page.inner_text("body")
                assert "true demand" not in text and "sigma" not in text.lower()
            assert sharp.inner_text("[data-testid=believed]") != before
            assert sharp.inner_text("[data-testid=believed]") != sleepy.inner_text(
                "[data-testid=believed]"
            )
            contacts_text = sharp.inner_text("[data-testid=team-name]")
            assert contacts_text == "Sharp eyes"
            sharp.screenshot(path=str(ARTIFACTS / "classroom-team.png"), full_page=True)

            # the trainer's page: the leaderboard ranks the teams by profit
            trainer.wait_for_selector("[data-testid=leaderboard]", timeout=60_000)
            board = trainer.locator("[data-testid=leaderboard]")
            names = board.locator("td.team-name").all_inner_texts()
            assert sorted(names) == ["Sharp eyes", "Sleepy eyes"]
            profits = _numbers(trainer, "[data-testid=leaderboard]", 3)
            assert profits == sorted(profits, reverse=True)
            sigma = dict(zip(names, _numbers(trainer, "[data-testid=leaderboard]", 5), strict=True))
            density = dict(
                zip(names, _numbers(trainer, "[data-testid=leaderboard]", 6), strict=True)
            )
            assert density["Sharp eyes"] > density["Sleepy eyes"]
            assert sigma["Sharp eyes"] > sigma["Sleepy eyes"]

            # the debrief: beliefs beside the truth for each team, with lags and defects
            teams = trainer.locator("div.team")
            assert teams.count() == 2
            for i in range(2):
                block = teams.nth(i)
                head = block.locator("table.beliefs th").all_inner_texts()
                assert head[1:3] == ["believed demand", "true demand"]
                believed = block.locator("table.beliefs tr td:nth-child(2)").all_inner_texts()
                true = block.locator("table.beliefs tr td:nth-child(3)").all_inner_texts()
                assert len(believed) == len(true) == 6
                assert block.locator("table.detection tr").count() == 7
                assert "exclusion" in block.locator(".why").inner_text()
                assert block.locator("table.rounds tr").count() == 2  # a header and round 1
            report = trainer.locator("[data-testid=debrief-link]").get_attribute("href")
            debrief = ctx.new_page()
            debrief.goto(server.url + str(report))
            assert debrief.locator("div.team").count() == 2
            debrief.screenshot(path=str(ARTIFACTS / "classroom-debrief.png"), full_page=True)
            report_html = debrief.content()
            for outside_ref in ("<script", "<link", "src="):
                assert outside_ref not in report_html  # one self-contained file
        finally:
            browser.close()
    assert outside == []


# --------------------------------------------------------------------------- access


def test_a_team_code_opens_only_its_own_team(server: Server) -> None:
    sid, links = _create(server)
    code_a = urllib.parse.parse_qs(urllib.parse.urlparse(links[0]).query)["code"][0]
    page_b = links[1].split("?")[0]
    assert _get(links[0])[0] == 200 and _get(links[1])[0] == 200
    status, body = _get(f"{page_b}?code={code_a}")
    assert status == 403 and "this code does not open this team&#x27;s page" in body
    assert _get(f"{page_b}/data.json?code={code_a}")[0] == 403
    assert _get(f"{page_b}/data.json")[0] == 403
    status, _, _ = _post(f"{page_b}/decide", {"code": code_a, "coverage": "0.5"})
    assert status == 403
    # the team's own data: beliefs and accounts, never the truth
    status, data = _get(links[0].replace("?code=", "/data.json?code="))
    assert status == 200
    payload = json.loads(data)
    assert payload["round"] == 1 and len(payload["results"]) == 1
    assert "truth" not in data and '"market_share"' not in data and '"sigma_level"' not in data
    # the trainer's pages need the trainer's key, not a team's code
    assert _get(f"{server.url}/s/{sid}?key={code_a}")[0] == 403
    assert _get(f"{server.url}/s/{sid}/debrief.html?key={code_a}")[0] == 403
    assert _get(f"{server.url}/s/{sid}/state.json")[0] == 403
    status, body = _get(f"{server.url}/s/nosuch/team/0?code={code_a}")
    assert status == 404 and "session &#x27;nosuch&#x27;: no such session" in body
    assert _get(f"{server.url}/s/{sid}/team/7?code={code_a}")[0] == 404


def test_bad_decisions_get_one_line_and_change_nothing(server: Server) -> None:
    sid, links = _create(server, density_max="0.2", budget="5")
    code = urllib.parse.parse_qs(urllib.parse.urlparse(links[0]).query)["code"][0]
    decide = links[0].split("?")[0] + "/decide"
    good = {"code": code, "coverage": "0.5", "density": "0.1", "strength": "0.8", "focus": "4"}
    good["targeting"] = "personalized"
    status, body, _ = _post(decide, {**good, "density": "0.5"})
    assert status == 400 and _message(body) == "density=0.5: must be between 0 and 0.2"
    status, body, _ = _post(decide, {**good, "coverage": "1", "density": "0.2"})
    assert status == 400 and _message(body).startswith("over budget: estimated cost")
    status, body, _ = _post(decide, {**good, "develop": "core/nowhere"})
    assert status == 400 and _message(body).startswith("develop='core/nowhere'")
    status, body = _get(f"{server.url}/s/{sid}/state.json?key={server.key}")
    assert json.loads(body)["submitted"] == []  # nothing was recorded
    status, body, _ = _post(f"{server.url}/sessions", {"key": server.key, "rounds": "0"})
    assert status == 400 and _message(body) == "rounds=0: must be between 1 and 52"
    status, body, _ = _post(decide, {**good, "padding": "x" * 70_000})
    assert status == 400 and _message(body).startswith("form: 70,")


# --------------------------------------------------------------------------- restart


def _decide(link: str, density: str, coverage: str) -> None:
    code = urllib.parse.parse_qs(urllib.parse.urlparse(link).query)["code"][0]
    form = {"code": code, "coverage": coverage, "density": density, "strength": "0.8"}
    status, body, _ = _post(
        link.split("?")[0] + "/decide", {**form, "focus": "4", "targeting": "personalized"}
    )
    assert status == 200, body[:2000]


def _profits(link: str) -> list[float]:
    status, data = _get(link.replace("?code=", "/data.json?code="))
    assert status == 200
    return [r["profit"] for r in json.loads(data)["results"]]


def test_a_restarted_server_continues_from_the_database(tmp_path: Path) -> None:
    """Two sessions, same settings and decisions: one played straight through, the other
    with the server stopped and started again between rounds. Same numbers."""
    db = tmp_path / "class.sqlite"
    first = _start(db, tmp_path / "first.log")
    try:
        sid_a, straight = _create(first)
        sid_b, stopped = _create(first)
        for links in (straight, stopped):
            _decide(links[0], "0.3", "0.9")
            _decide(links[1], "0.02", "0.4")
        _decide(straight[0], "0.05", "0.9")
        _decide(straight[1], "0.2", "0.6")
        _decide(stopped[0], "0.05", "0.9")  # submitted, then the server stops
    finally:
        first.stop()
    second = _start(db, tmp_path / "second.log")
    try:
        assert second.key == first.key  # the trainer's link still works
        status, body = _get(f"{second.url}/s/{sid_b}/state.json?key={second.key}")
        state = json.loads(body)
        assert state["round"] == 2 and state["submitted"] == [0]  # the decision survived
        moved = [link.replace(first.url, second.url) for link in stopped]
        _decide(moved[1], "0.2", "0.6")  # the last one in: round 2 runs by replay
        status, body = _get(f"{second.url}/s/{sid_b}/state.json?key={second.key}")
        assert json.loads(body)["round"] == 3
        assert "replaying 1 round" in json.loads(body)["note"]
        for a, b in zip(straight, moved, strict=True):
            got = _profits(b)
            assert len(got) == 3 and got == _profits(a.replace(first.url, second.url))
    finally:
        second.stop()


# --------------------------------------------------------------------------- command line


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(DEMANDSIM), "classroom", *args], capture_output=True, text=True, timeout=60
    )


def test_command_line_bad_input_is_one_line_exit_2(tmp_path: Path) -> None:
    proc = _run("--db", str(tmp_path / "missing" / "c.sqlite"), "--port", str(_free_port()))
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"demandsim: error: --db {tmp_path / 'missing' / 'c.sqlite'}: folder "
        f"{tmp_path / 'missing'} does not exist"
    ]
    junk = tmp_path / "junk.sqlite"
    junk.write_text("not a database, just text " * 100)
    proc = _run("--db", str(junk), "--port", str(_free_port()))
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert "not a classroom database" in proc.stderr
    assert junk.read_text() == "not a database, just text " * 100  # left as it was
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        proc = _run("--db", str(tmp_path / "c.sqlite"), "--port", str(port))
    assert proc.returncode == 2 and "in use" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "c.sqlite").exists()  # nothing written


def test_debrief_from_the_command_line(server: Server, tmp_path: Path) -> None:
    sid, links = _create(server, rounds="1")
    _decide(links[0], "0.3", "0.9")
    _decide(links[1], "0.02", "0.4")
    code = urllib.parse.parse_qs(urllib.parse.urlparse(links[0]).query)["code"][0]
    status, body, _ = _post(links[0].split("?")[0] + "/decide", {"code": code, "density": "0.1"})
    assert status == 409 and _message(body) == "round 2: not open for decisions (finished)"
    status, body, _ = _post(f"{server.url}/s/{sid}/close", {"key": server.key})
    assert status == 409 and _message(body) == f"session '{sid}': all 1 rounds have been played"
    db = Path(re.search(r"Classroom database: (\S+)", server.log.read_text()).group(1))  # type: ignore[union-attr]
    out = tmp_path / "debrief.html"
    proc = _run("--db", str(db), "--debrief", sid, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert text.count("class=team ") == 2 and "true demand" in text and "Team 2" in text
    proc = _run("--db", str(db), "--debrief", "nosuch", "--out", str(tmp_path / "x.html"))
    assert proc.returncode == 2 and "session 'nosuch': no such session" in proc.stderr
    assert not (tmp_path / "x.html").exists()


def test_command_module_stays_light() -> None:
    code = (
        "import sys, demandsim.classroom; "
        "heavy = [m for m in ('starlette', 'uvicorn', 'mesa', 'sim.model') if m in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stdout + out.stderr


def test_the_server_listens_on_the_loopback_address_only(server: Server) -> None:
    port = int(server.url.rsplit(":", 1)[1])
    listening = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError), open(table) as f:
            for line in f.read().splitlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                address, hex_port = local.split(":")
                if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                    listening.append(address)
    assert listening == ["0100007F"]  # 127.0.0.1, little-endian; nothing on 0.0.0.0 or ::


def test_simultaneous_submissions_over_http_run_the_round_once(server: Server) -> None:
    import threading

    sid, links = _create(server, teams="3")
    go = threading.Barrier(3)
    failures: list[BaseException] = []

    def submit(link: str, density: str) -> None:
        go.wait()
        try:
            _decide(link, density, "0.7")
        except BaseException as exc:  # collected for the assertion below
            failures.append(exc)

    threads = [
        threading.Thread(target=submit, args=(link, d))
        for link, d in zip(links, ("0.05", "0.1", "0.2"), strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    status, body = _get(f"{server.url}/s/{sid}/state.json?key={server.key}")
    assert json.loads(body)["round"] == 2
    for link in links:
        assert len(_profits(link)) == 2  # round 0 and one run of round 1
