"""The classroom as a class meets it: ``demandsim classroom`` as a real process, a
trainer and two teams in headless Chromium, a restart mid-session, team codes
keeping teams apart, bad input over HTTP and on the command line.

The browser test needs Debian's Chromium at /usr/bin/chromium (``make browser``).
It saves screenshots of a team page and of the debrief under ``test-artifacts/``.
"""

from __future__ import annotations

import contextlib
import csv
import html
import http.client
import http.cookiejar
import io
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

REPO = Path(__file__).resolve().parents[1]
#: ``demandsim`` run from this tree
DEMANDSIM = [sys.executable, "-m", "demandsim"]
ARTIFACTS = REPO / "test-artifacts"
#: the command runs this tree's code, not the one the virtual environment was installed from
ENV = {**os.environ, "PYTHONPATH": str(REPO)}
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


def _start(db: Path, log: Path, *extra: str) -> Server:
    """``demandsim classroom --db DB`` on a free port; waits until it answers."""
    port = _free_port()
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [*DEMANDSIM, "classroom", "--db", str(db), "--port", str(port), *extra],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            env=ENV,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, f"classroom exited early:\n{log.read_text()}"
        found = re.search(r"Trainer page: (\S+)/\?key=(\S+)", log.read_text())
        if found:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 5):
                return Server(found.group(1), found.group(2), proc, log)
        assert time.monotonic() < deadline, f"classroom did not answer:\n{log.read_text()}"
        time.sleep(0.2)


class Client:
    """One browser's worth of cookies, over urllib (redirects followed)."""

    def __init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, url: str) -> tuple[int, str]:
        return self._open(url, None)[:2]

    def post(self, url: str, form: dict[str, Any]) -> tuple[int, str, str]:
        """POST a form (following the redirect); (status, body, final address)."""
        return self._open(url, urllib.parse.urlencode(form, doseq=True).encode())

    def _open(self, url: str, data: bytes | None) -> tuple[int, str, str]:
        try:
            with self.opener.open(url, data=data, timeout=120) as resp:
                return int(resp.status), resp.read().decode(), resp.geturl()
        except urllib.error.HTTPError as exc:
            return int(exc.code), exc.read().decode(), url

    def cookies(self) -> dict[str, str]:
        return {c.name: str(c.value) for c in self.jar}


def _get(url: str) -> tuple[int, str]:
    return Client().get(url)


def _post(url: str, form: dict[str, Any]) -> tuple[int, str, str]:
    return Client().post(url, form)


def _create(server: Server, **extra: str) -> tuple[str, list[str]]:
    """A session made through the trainer's form; (its id, the teams' join links)."""
    status, body, where = _post(f"{server.url}/sessions", {"key": server.key, **SESSION, **extra})
    assert status == 200, body
    sid = re.search(r"/s/(\w+)$", where)
    assert sid, where
    links = re.findall(r"class=team-link href='([^']+)'", body)
    return sid.group(1), [html.unescape(link) for link in links]


@dataclass
class Team:
    """A team's browser after it opened its join link."""

    client: Client
    page: str  # the team page's address (no code in it)

    @property
    def code(self) -> str:
        return self.client.cookies()["classroom_team"]

    def form(self) -> dict[str, str]:
        """The hidden fields of the decision form as the page shows it now."""
        status, body = self.client.get(self.page)
        assert status == 200, body[:2000]
        return dict(re.findall(r"<input type=hidden name=(\w+) value='([^']*)'>", body))


def _join(link: str) -> Team:
    client = Client()
    status, body, where = client.post(
        link.rsplit("/j/", 1)[0] + "/join", {"joincode": link.rsplit("/", 1)[1]}
    )
    assert status == 200 and "/j/" not in where and "code" not in where, (status, where)
    return Team(client, where)


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


# --------------------------------------------------------------------------- access


def test_a_team_code_opens_only_its_own_team(server: Server) -> None:
    sid, links = _create(server)
    a, b = _join(links[0]), _join(links[1])
    assert a.page.endswith(f"/s/{sid}/team/0") and b.page.endswith(f"/s/{sid}/team/1")
    code_a = a.code
    status, body = _get(f"{b.page}?code={code_a}")
    assert status == 403 and "this code does not open this team&#x27;s page" in body
    assert _get(f"{b.page}/data.json?code={code_a}")[0] == 403
    assert _get(f"{b.page}/data.json")[0] == 403
    status, _, _ = _post(f"{b.page}/decide", {"code": code_a, "coverage": "0.5", "round": "1"})
    assert status == 403
    # the team's own data: beliefs and accounts, never the truth
    status, data = a.client.get(f"{a.page}/data.json")
    assert status == 200
    payload = json.loads(data)
    assert payload["round"] == 1 and len(payload["results"]) == 1
    assert "truth" not in data and '"market_share"' not in data and '"sigma_level"' not in data
    # the trainer's pages need the trainer's key, not a team's code
    assert _get(f"{server.url}/s/{sid}?key={code_a}")[0] == 403
    assert a.client.get(f"{server.url}/s/{sid}")[0] == 403
    assert _get(f"{server.url}/s/{sid}/debrief.html?key={code_a}")[0] == 403
    assert _get(f"{server.url}/s/{sid}/state.json")[0] == 403
    assert a.client.get(f"{a.page}/debrief.html")[0] == 403  # not released yet
    status, body = _get(f"{server.url}/s/nosuch/team/0?code={code_a}")
    assert status == 404 and "session &#x27;nosuch&#x27;: no such session" in body
    assert _get(f"{server.url}/s/{sid}/team/7?code={code_a}")[0] == 404
    status, body, _ = _post(f"{server.url}/join", {"joincode": "ZZZZZZ"})
    assert status == 404 and "no team has this code" in body


def test_cookies_replace_codes_and_forms_need_their_token(server: Server) -> None:
    trainer = Client()
    status, body = trainer.get(f"{server.url}/?key={server.key}")
    assert status == 200 and server.key not in body  # the key left the address and the page
    cookie = next(c for c in trainer.jar if c.name == "classroom_trainer")
    assert cookie.value == server.key and cookie.has_nonstandard_attr("HttpOnly")
    sid, links = _create(server)
    status, body = trainer.get(f"{server.url}/s/{sid}")
    assert status == 200 and server.key not in body
    codes = [str(t) for t in re.findall(r"data-testid=join-code>(\w+)<", body)]
    assert len(codes) == 2 and all(len(c) == 6 for c in codes)
    team = _join(links[0])
    status, body = team.client.get(team.page)
    assert status == 200 and team.code not in body  # the code is in the cookie alone
    form = {**team.form(), "coverage": "0.5", "density": "0.05", "strength": "0.6", "focus": "1"}
    form["targeting"] = "homogeneous"
    # a cross-site form: the cookie goes with it, the page's token cannot
    status, body, _ = team.client.post(f"{team.page}/decide", {**form, "csrf": "forged"})
    assert status == 403 and "security token does not match" in _message(body)
    status, body, _ = trainer.post(f"{server.url}/s/{sid}/close", {"round": "1", "confirm": "yes"})
    assert status == 403  # the trainer's cookie without the page's token
    assert json.loads(trainer.get(f"{server.url}/s/{sid}/state.json")[1])["round"] == 1
    status, body, where = team.client.post(f"{team.page}/decide", form)
    assert status == 200 and _message(body) == "Your decision for round 1 is recorded."
    assert "code" not in where


def test_stale_forms_are_refused_and_a_close_asks_first(server: Server) -> None:
    sid, links = _create(server)
    trainer = Client()
    trainer.get(f"{server.url}/s/{sid}?key={server.key}")
    teams = [_join(link) for link in links]
    shown = [t.form() for t in teams]  # both pages show round 1
    decision = {"coverage": "0.5", "density": "0.05", "strength": "0.6", "focus": "1"}
    decision["targeting"] = "homogeneous"
    status, page = trainer.get(f"{server.url}/s/{sid}")
    token = re.search(r"name=csrf value='(\w+)'", page).group(1)  # type: ignore[union-attr]
    status, body, _ = trainer.post(f"{server.url}/s/{sid}/close", {"csrf": token, "round": "1"})
    assert status == 200 and "Close round 1 now? 0 of 2 teams submitted" in body  # asks first
    assert json.loads(trainer.get(f"{server.url}/s/{sid}/state.json")[1])["round"] == 1
    for t, form in zip(teams, shown, strict=True):  # every team submits: round 1 runs
        status, body, _ = t.client.post(f"{t.page}/decide", {**form, **decision})
        assert status == 200, body[:2000]
    # the trainer confirms the close three seconds later: refused, round 2 untouched
    status, body, _ = trainer.post(
        f"{server.url}/s/{sid}/close", {"csrf": token, "round": "1", "confirm": "yes"}
    )
    assert status == 409 and _message(body).startswith(
        "Close for round 1 refused: the session is now at round 2 (open). Nothing was changed"
    )
    state = json.loads(trainer.get(f"{server.url}/s/{sid}/state.json")[1])
    assert state["round"] == 2 and state["submitted"] == []
    # a page still showing round 1 sends another decision: refused, not stored for round 2
    status, body, _ = teams[0].client.post(
        f"{teams[0].page}/decide", {**shown[0], **decision, "density": "0.2"}
    )
    assert status == 409 and _message(body).startswith("Decision for round 1 refused")
    # the same decision again (a double click): idempotent, nothing changes
    status, body, _ = teams[1].client.post(f"{teams[1].page}/decide", {**shown[1], **decision})
    assert status == 200 and _message(body) == (
        "Decision for round 1 was already recorded; nothing changed."
    )
    state = json.loads(trainer.get(f"{server.url}/s/{sid}/state.json")[1])
    assert state["round"] == 2 and state["submitted"] == []


def test_links_and_host_names_come_from_the_configuration(server: Server) -> None:
    sid, links = _create(server)
    port = server.url.rsplit(":", 1)[1]
    assert all(link.startswith(f"http://127.0.0.1:{port}/j/") for link in links)
    request = urllib.request.Request(f"{server.url}/s/{sid}?key={server.key}")
    request.add_header("Host", "evil.example")
    status, body = Client().get(request)  # type: ignore[arg-type]
    assert status == 400 and "evil.example" not in body


def test_bad_decisions_get_one_line_and_change_nothing(server: Server) -> None:
    sid, links = _create(server, density_max="0.2", budget="5")
    team = _join(links[0])
    decide = f"{team.page}/decide"
    good = {"code": team.code, "round": "1", "coverage": "0.5", "density": "0.1"}
    good.update(strength="0.8", focus="4", targeting="personalized")
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


def _rss_mb(pid: int) -> float:
    """Resident memory of the server and its children, in MB."""
    total = 0
    for p in [
        pid,
        *map(
            int,
            subprocess.run(
                ["pgrep", "-P", str(pid)], capture_output=True, text=True
            ).stdout.split(),
        ),
    ]:
        with contextlib.suppress(FileNotFoundError), open(f"/proc/{p}/status") as f:
            total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))
    return total / 1024


def test_a_body_is_measured_before_it_is_read(server: Server) -> None:

    host, port = "127.0.0.1", int(server.url.rsplit(":", 1)[1])
    status, body, _ = _post(f"{server.url}/s/nosuch/team/0/decide", {"padding": "x" * 70_000})
    assert status == 413 and _message(body) == "form: 70,008 bytes, at most 65,536 allowed"
    # a declared 400 MB body: refused at once, from the header
    conn = http.client.HTTPConnection(host, port, timeout=30)
    conn.putrequest("POST", "/s/nosuch/team/0/decide")
    conn.putheader("Content-Type", "application/x-www-form-urlencoded")
    conn.putheader("Content-Length", str(400 * 2**20))
    conn.endheaders()
    conn.send(b"x" * 1000)
    resp = conn.getresponse()
    assert resp.status == 413 and b"419,430,400 bytes" in resp.read()
    conn.close()
    # a streamed body that declares no length: refused past 64 KB, memory flat
    before = _rss_mb(server.proc.pid)
    conn = http.client.HTTPConnection(host, port, timeout=30)
    conn.putrequest("POST", "/s/nosuch/team/0/decide")
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    sent = 0
    chunk = b"x" * 2**20
    with contextlib.suppress(OSError):
        while sent < 400 * 2**20:
            conn.send(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            sent += len(chunk)
    with contextlib.suppress(OSError, http.client.HTTPException):
        resp = conn.getresponse()
        assert resp.status == 413
    conn.close()
    assert sent < 400 * 2**20 or resp.status == 413
    assert _rss_mb(server.proc.pid) - before < 50


def test_tls_secure_cookies_and_join_codes_not_guessable(tmp_path: Path) -> None:
    """--certfile/--keyfile: links in https, cookies Secure; ten wrong join codes a
    minute from one device, then even a right one waits (429)."""
    import ssl

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
        + ["-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    srv = _start(
        tmp_path / "c.sqlite", tmp_path / "tls.log", "--certfile", str(cert), "--keyfile", str(key)
    )
    try:
        assert srv.url.startswith("https://127.0.0.1:")
        context = ssl.create_default_context(cafile=str(cert))
        client = Client()
        client.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(client.jar),
            urllib.request.HTTPSHandler(context=context),
        )
        status, body, _ = client.post(f"{srv.url}/sessions", {"key": srv.key, **SESSION})
        assert status == 200, body[:500]
        cookie = next(c for c in client.jar if c.name == "classroom_trainer")
        assert cookie.secure and cookie.has_nonstandard_attr("HttpOnly")
        links = re.findall(r"class=team-link href='([^']+)'", body)
        assert links and all(link.startswith(f"{srv.url}/j/") for link in links)
        with pytest.raises((OSError, http.client.HTTPException)):  # plain HTTP is not served
            urllib.request.urlopen(srv.url.replace("https", "http") + "/join", timeout=10)
        statuses = [client.post(f"{srv.url}/join", {"joincode": f"WRONG{i}"})[0] for i in range(11)]
        assert statuses == [404] * 10 + [429]
        right = links[0].rsplit("/", 1)[1]
        status, body, _ = client.post(f"{srv.url}/join", {"joincode": right})
        assert status == 429 and "too many wrong codes from this device" in body
    finally:
        srv.stop()


# --------------------------------------------------------------------------- restart


def _decide(team: Team, density: str, coverage: str) -> None:
    form = {**team.form(), "coverage": coverage, "density": density, "strength": "0.8"}
    status, body, _ = team.client.post(
        f"{team.page}/decide", {**form, "focus": "4", "targeting": "personalized"}
    )
    assert status == 200, body[:2000]


def _profits(team: Team) -> list[float]:
    status, data = team.client.get(f"{team.page}/data.json")
    assert status == 200
    return [r["profit"] for r in json.loads(data)["results"]]


def _move(teams: list[Team], old: Server, new: Server) -> None:
    """The same browsers, their cookies kept, on the restarted server's port."""
    port = new.url.rsplit(":", 1)[1]
    for t in teams:
        t.page = t.page.replace(old.url, new.url)
        for c in t.client.jar:
            c.port = port


def test_a_restarted_server_continues_from_the_database(tmp_path: Path) -> None:
    """Two sessions, same settings and decisions: one played straight through, the other
    with the server stopped and started again between rounds. Same numbers."""
    db = tmp_path / "class.sqlite"
    first = _start(db, tmp_path / "first.log")
    try:
        sid_a, links_a = _create(first)
        sid_b, links_b = _create(first)
        straight, stopped = [_join(x) for x in links_a], [_join(x) for x in links_b]
        for teams in (straight, stopped):
            _decide(teams[0], "0.3", "0.9")
            _decide(teams[1], "0.02", "0.4")
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
        _move(straight + stopped, first, second)
        _decide(stopped[1], "0.2", "0.6")  # the last one in: round 2 runs by replay
        status, body = _get(f"{second.url}/s/{sid_b}/state.json?key={second.key}")
        assert json.loads(body)["round"] == 3
        assert "replaying 1 round" in json.loads(body)["note"]
        for a, b in zip(straight, stopped, strict=True):
            got = _profits(b)
            assert len(got) == 3 and got == _profits(a)
    finally:
        second.stop()


def test_a_round_every_team_submitted_runs_after_a_kill(tmp_path: Path) -> None:
    """SIGKILL between the last submit's commit and its round: the restarted server runs
    the round by itself, without anyone pressing Close."""
    from analysis.classroom.store import Store

    db = tmp_path / "class.sqlite"
    first = _start(db, tmp_path / "first.log")
    try:
        sid, links = _create(first)
        _decide(_join(links[0]), "0.3", "0.9")
    finally:
        os.killpg(first.proc.pid, signal.SIGKILL)
        first.proc.wait(timeout=20)
    store = Store(db)  # the second decision committed, the round never started
    platform = store.results(sid, 1)[0]["team"]["platform"]
    assert store.submit(sid, 1, 1, {"platform": platform, "develop": []})[0]
    second = _start(db, tmp_path / "second.log")
    try:
        deadline = time.monotonic() + 60
        url = f"{second.url}/s/{sid}/state.json?key={second.key}"
        while json.loads(_get(url)[1])["round"] == 1:
            assert time.monotonic() < deadline, second.log.read_text()
            time.sleep(0.5)
    finally:
        second.stop()


def test_a_second_server_on_the_same_database_is_refused(server: Server) -> None:
    found = re.search(r"Classroom database: (\S+)", server.log.read_text())
    assert found
    proc = _run("--db", found.group(1), "--port", str(_free_port()))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "another classroom server (pid " in lines[0], proc.stderr


# --------------------------------------------------------------------------- command line


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*DEMANDSIM, "classroom", *args], capture_output=True, text=True, timeout=60, env=ENV
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
    assert "expected a classroom database" in proc.stderr
    assert junk.read_text() == "not a database, just text " * 100  # left as it was
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        proc = _run("--db", str(tmp_path / "c.sqlite"), "--port", str(port))
    assert proc.returncode == 2 and "in use" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "c.sqlite").exists()  # nothing written
    db = str(tmp_path / "c.sqlite")
    proc = _run("--db", db, "--port", str(_free_port()), "--certfile", str(junk))
    assert proc.returncode == 2 and "give both" in proc.stderr
    tls = ("--certfile", str(junk), "--keyfile", str(junk))
    proc = _run("--db", db, "--port", str(_free_port()), *tls)
    assert proc.returncode == 2 and "cannot be loaded" in proc.stderr
    proc = _run("--db", db, "--port", str(_free_port()), "--public-url", "ftp://x")
    assert proc.returncode == 2 and "must look like https://host[:port]" in proc.stderr


def test_debrief_from_the_command_line(server: Server, tmp_path: Path) -> None:
    sid, links = _create(server, rounds="1")
    teams = [_join(x) for x in links]
    _decide(teams[0], "0.3", "0.9")
    _decide(teams[1], "0.02", "0.4")
    status, body, _ = _post(
        f"{teams[0].page}/decide", {"code": teams[0].code, "density": "0.1", "round": "2"}
    )
    assert status == 409 and _message(body).startswith(
        "Decision for round 2 refused: all rounds have been played."
    )
    status, body, _ = _post(f"{server.url}/s/{sid}/close", {"key": server.key, "round": "2"})
    assert status == 409 and _message(body).startswith(
        "Close for round 2 refused: all rounds have been played."
    )
    status, table = _get(f"{server.url}/s/{sid}/results.csv?key={server.key}")
    rows = list(csv.reader(io.StringIO(table)))
    assert status == 200 and rows[0][:3] == ["round", "team", "decision"] and len(rows) == 3
    assert [r[1] for r in rows[1:]] == ["Team 1", "Team 2"] and rows[1][4] == "0.3"
    assert _get(f"{server.url}/s/{sid}/results.csv")[0] == 403
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
    teams = [_join(x) for x in links]
    go = threading.Barrier(3)
    failures: list[BaseException] = []

    def submit(team: Team, density: str) -> None:
        go.wait()
        try:
            _decide(team, density, "0.7")
        except BaseException as exc:  # collected for the assertion below
            failures.append(exc)

    threads = [
        threading.Thread(target=submit, args=(team, d))
        for team, d in zip(teams, ("0.05", "0.1", "0.2"), strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    status, body = _get(f"{server.url}/s/{sid}/state.json?key={server.key}")
    assert json.loads(body)["round"] == 2
    for team in teams:
        assert len(_profits(team)) == 2  # round 0 and one run of round 1
