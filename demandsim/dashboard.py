"""``demandsim dashboard``: serve the trainer's dashboard with Solara, offline.

The command checks its arguments, prints the address and replaces itself with
``solara run analysis.dashboard.app:Page`` in production mode. Solara's front end
(Vue, Vuetify, fonts, require.js) comes from the ``solara-assets`` package,
which installs the CDN files under ``<venv>/share/solara/cdn``; Solara's asset
proxy serves them from there. The proxy's upstream CDN is pointed at an
unroutable local address, so a missing file fails at once instead of reaching
out to the network, and Solara's usage telemetry is switched off.

Heavy imports (Solara, Mesa, the model) happen in the served process only, so
``demandsim --help`` stays fast.
"""

from __future__ import annotations

import errno
import os
import socket
import sys
from pathlib import Path
from typing import Any

import click

from sim.errors import InputError

APP = "analysis.dashboard.app:Page"
# Where a file missing from the installed assets would be fetched from: nowhere.
OFFLINE_CDN = "http://127.0.0.1:9/"


def offline_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment that makes Solara serve its front end from the installed assets only."""
    env = dict(os.environ if base is None else base)
    env.update(
        {
            "SOLARA_ASSETS_PROXY": "True",
            "SOLARA_ASSETS_CDN": OFFLINE_CDN,
            "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
            "SOLARA_THEME_SHOW_BANNER": "False",
            "MPLBACKEND": "Agg",
        }
    )
    return env


def assets_dir() -> Path:
    """The installed copy of Solara's CDN files (from the solara-assets package)."""
    return Path(sys.prefix) / "share" / "solara" / "cdn"


def check_address(host: str, port: int) -> None:
    """Fail with one line, before anything starts, if the server could not listen there."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise InputError(f"--host {host!r}: not an address of this machine") from None
    family, kind, proto, _, addr = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does
        try:
            probe.bind(addr)
            probe.listen(1)  # on Linux a port another server listens on can still be bound
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise InputError(
                    f"--port {port}: already in use on {host}; expected a free port (e.g. --port {port + 1})"
                ) from None
            raise InputError(f"--host {host!r}: cannot listen there ({exc.strerror})") from None


def solara_command(host: str, port: int) -> list[str]:
    """The ``solara run`` command line for the dashboard app."""
    return [
        sys.executable,
        "-m",
        "solara",
        "run",
        APP,
        "--host",
        host,
        "--port",
        str(port),
        "--production",
        "--no-open",
        "--log-level",
        "warning",
    ]


@click.command("dashboard")
@click.argument("scenario", required=False, default="baseline")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; use 0.0.0.0 to expose the dashboard to other machines deliberately.",
)
@click.option(
    "--port",
    default=8765,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port to listen on.",
)
@click.option(
    "--seed",
    type=click.IntRange(0, 2**63 - 1),
    default=None,
    help="Seed shared by both runs (default: the scenario's).",
)
@click.option(
    "--customers",
    type=click.IntRange(1, 10_000_000),
    default=None,
    help="Population size (default: the scenario's).",
)
def dashboard(scenario: str, host: str, port: int, seed: int | None, customers: int | None) -> None:
    """Start the browser dashboard: SCENARIO's focal firm with a sensitive and an
    insensitive platform, side by side on the same market.

    SCENARIO is a bundled name (default: baseline) or a path to a TOML file.
    The dashboard runs without network access; stop it with Ctrl-C.
    """
    from demandsim.errors import need_extra

    need_extra("viz", "demandsim dashboard")
    from sim.scenario import load_scenario

    overrides = {"run.customers": customers} if customers is not None else None
    sc = load_scenario(scenario, overrides)  # bad input: one line, exit 2
    if not (assets_dir() / "requirejs@2.3.6").is_dir():
        raise InputError(
            f"solara-assets: no front-end files under {assets_dir()}; expected the solara-assets "
            "package installed in this environment (pip install solara-assets)"
        )
    check_address(host, port)
    env = offline_env()
    for key in ("DEMANDSIM_DASHBOARD_SEED", "DEMANDSIM_DASHBOARD_CUSTOMERS"):
        env.pop(key, None)  # only this command's own options reach the page
    env["DEMANDSIM_DASHBOARD_SCENARIO"] = (
        str(Path(scenario).resolve()) if Path(scenario).suffix == ".toml" else scenario
    )
    if seed is not None:
        env["DEMANDSIM_DASHBOARD_SEED"] = str(seed)
    if customers is not None:  # kept when the page switches to another scenario
        env["DEMANDSIM_DASHBOARD_CUSTOMERS"] = str(customers)
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"demandsim dashboard: starting {sc.run.name} on port {port} ...", err=True)
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(
            f"demandsim dashboard: listening on {host}: reachable from other machines", err=True
        )
    sys.stderr.flush()
    import subprocess

    server = subprocess.Popen(solara_command(host, port), env=env)
    try:
        # the address is printed when the server answers, so that opening it at once works
        if answers_when_up(local_url(host, port), server):
            click.echo(
                f"demandsim dashboard: {sc.run.name} at http://{shown}:{port}/  (Ctrl-C to stop)"
            )
            sys.stdout.flush()
        sys.exit(server.wait())
    except KeyboardInterrupt:
        server.terminate()
        server.wait()
        raise


def local_url(host: str, port: int) -> str:
    """The URL this machine reaches a server listening on ``host`` at."""
    near = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    return f"http://{f'[{near}]' if ':' in near else near}:{port}/"


def answers_when_up(url: str, server: Any, poll: float = 0.2) -> bool:
    """Wait until ``url`` answers HTTP (True) or the ``server`` process ends (False)."""
    import time
    import urllib.error
    import urllib.request

    while server.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return True
        except urllib.error.HTTPError:
            return True  # an answer, even an error page, is a server that is up
        except OSError:
            time.sleep(poll)
    return False
