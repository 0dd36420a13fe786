"""The address students reach the server at, the Host names it answers to, and the
QR codes of the team links.

Links are built from this configuration, never from a request's Host header: bound
to one address, links use it; bound to every interface (``0.0.0.0``), they use the
machine's first non-loopback IPv4 address (read from the interfaces, nothing is
sent); behind a proxy, ``--public-url``. The server answers only requests whose
Host is one of these names (a forged Host gets 400), so no request can rewrite a
link.
"""

from __future__ import annotations

import fcntl
import ipaddress
import socket
import struct
from dataclasses import dataclass
from urllib.parse import urlsplit

from sim.errors import InputError

WILDCARDS = ("0.0.0.0", "::", "")
LOOPBACK = ("127.0.0.1", "localhost", "::1")
_SIOCGIFADDR = 0x8915


@dataclass(frozen=True)
class Address:
    """Where the class reaches the server."""

    public_url: str  # scheme://host[:port], no trailing slash
    allowed_hosts: tuple[str, ...]
    secure: bool  # served over TLS (cookies are then Secure)


def interface_addresses() -> list[str]:
    """IPv4 addresses of this machine's interfaces, loopback excluded, in interface order
    (Linux ``SIOCGIFADDR``; no packet is sent)."""
    out = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for _, name in socket.if_nameindex():
            try:
                packed = fcntl.ioctl(
                    s.fileno(), _SIOCGIFADDR, struct.pack("256s", name[:15].encode())
                )
            except OSError:
                continue  # no IPv4 address on this interface
            addr = socket.inet_ntoa(packed[20:24])
            if not ipaddress.ip_address(addr).is_loopback:
                out.append(addr)
    return out


def resolve(host: str, port: int, public_url: str | None, tls: bool) -> Address:
    """The configured address: from ``public_url``, else from ``host`` (the room's
    address when ``host`` is every interface)."""
    scheme = "https" if tls else "http"
    names = set(LOOPBACK)
    if public_url:
        parts = urlsplit(public_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputError(f"--public-url {public_url}: must look like https://host[:port]")
        if parts.path not in ("", "/") or parts.query:
            raise InputError(f"--public-url {public_url}: no path or query (the server's root)")
        names.add(parts.hostname)
        if host not in WILDCARDS:
            names.add(host)
        return Address(public_url.rstrip("/"), tuple(sorted(names)), tls)
    if host in WILDCARDS:
        room = interface_addresses()
        names.update(room)
        shown = room[0] if room else "127.0.0.1"
    else:
        names.add(host)
        shown = host
    netloc = f"[{shown}]" if ":" in shown else shown
    return Address(f"{scheme}://{netloc}:{port}", tuple(sorted(names)), tls)


def qr_svg(url: str) -> str:
    """An inline SVG QR code of ``url`` (``segno``)."""
    import segno

    return str(segno.make(url, error="m").svg_inline(scale=3, border=2))
