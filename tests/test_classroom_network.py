"""Where the class reaches the server: the printed address and the Host names the
server answers to come from its configuration (``--host``, ``--public-url``), the
room address from the machine's interfaces; and the QR codes of the team links."""

from __future__ import annotations

import pytest

from analysis.classroom import network
from analysis.classroom.network import interface_addresses, qr_svg, resolve
from sim.errors import InputError


def test_an_explicit_host_is_the_address_students_use() -> None:
    a = resolve("192.168.1.20", 8766, None, tls=False)
    assert a.public_url == "http://192.168.1.20:8766" and not a.secure
    assert set(a.allowed_hosts) == {"192.168.1.20", "127.0.0.1", "localhost", "::1"}
    assert resolve("192.168.1.20", 443, None, tls=True).public_url == "https://192.168.1.20:443"


def test_every_interface_uses_the_first_room_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(network, "interface_addresses", lambda: ["10.0.0.5", "172.20.10.2"])
    a = resolve("0.0.0.0", 8766, None, tls=False)
    assert a.public_url == "http://10.0.0.5:8766"
    assert {"10.0.0.5", "172.20.10.2"} <= set(a.allowed_hosts) and "0.0.0.0" not in a.allowed_hosts
    monkeypatch.setattr(network, "interface_addresses", lambda: [])
    assert resolve("0.0.0.0", 8766, None, tls=False).public_url == "http://127.0.0.1:8766"


def test_a_public_url_is_used_as_given_and_checked() -> None:
    a = resolve("127.0.0.1", 8766, "https://class.example.org/", tls=False)
    assert a.public_url == "https://class.example.org"
    assert "class.example.org" in a.allowed_hosts and "evil.example" not in a.allowed_hosts
    for bad in ("ftp://x", "class.example.org", "https://x/path", "https://x/?a=1"):
        with pytest.raises(InputError, match="--public-url"):
            resolve("127.0.0.1", 8766, bad, tls=False)


def test_interface_addresses_leave_loopback_out() -> None:
    found = interface_addresses()
    assert all(not a.startswith("127.") for a in found)
    assert all(len(a.split(".")) == 4 for a in found)


def test_a_qr_code_is_an_inline_svg_of_the_link() -> None:
    svg = qr_svg("http://192.168.1.20:8766/j/ABCDEF")
    assert svg.startswith("<svg") and svg.endswith("</svg>") and "segno" in svg
    assert svg != qr_svg("http://192.168.1.20:8766/j/ABCDEG")
