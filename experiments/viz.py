"""``tao-arena viz [FILE] [--port N] [--host H]``: serve the interactive page.

The page is ``viz/app.py`` (Mesa's SolaraViz), served with ``solara run`` on
127.0.0.1 unless ``--host`` says otherwise; the experiment file reaches it in the
``TAO_ARENA_VIZ_FILE`` environment variable. The file is validated first: a bad file is
refused with the loader's message and exit code 2, and no server starts.

The browser side of Solara loads a few front-end packages (the Vue/Vuetify app, RequireJS,
Font Awesome, the grid layout SolaraViz uses) through the server's CDN proxy, which would
fetch them from a public CDN on first use. So that the page works on a machine that
reaches only package registries, ``ensure_browser_assets`` installs them once from the
npm registry with ``npm pack`` into ``~/.cache/tao-arena/solara-cdn`` (or
``$TAO_ARENA_ASSETS``) and the server is pointed there (``SOLARA_ASSETS_PROXY_CACHE_DIR``).
Solara's usage telemetry and its start-up check against solara.dev are turned off.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

APP_MODULE = "viz.app"
ENV_FILE = "TAO_ARENA_VIZ_FILE"  # the same name as viz.settings.ENV_FILE
ENV_ASSETS = "TAO_ARENA_ASSETS"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
START_TIMEOUT_S = 120.0

# Front-end packages the page needs, as ``name@version`` (npm). Solara pins these
# versions in its templates; ``required_assets`` reads them from there when it can, and
# these are the versions of solara 1.64 (with ipyvuetify 1.x, i.e. Vue 2).
FALLBACK_ASSETS = (
    "@widgetti/solara-vuetify-app@10.1.1",
    "requirejs@2.3.6",
    "font-awesome@4.5.0",
    "@widgetti/vue-grid-layout@2.3.13-alpha.2",
)
_SPEC = r"((?:@[\w.-]+/)?[\w.-]+@\d+\.\d+\.\d+(?:-[\w.]+)?)"


def default_file() -> Path:
    """The quickstart experiment, the page's default."""
    return Path(__file__).resolve().parent / "configs" / "quickstart.yaml"


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``viz`` subcommand to the CLI's subparsers."""
    p = sub.add_parser(
        "viz", help="watch an experiment play out in the browser (Mesa SolaraViz)",
        description="Serve the interactive page for an experiment file: the subnet as a "
        "network, plots over epochs, top earners, and controls. Listens on 127.0.0.1 "
        "unless --host is given.",
    )
    p.add_argument("file", nargs="?", default=None,
                   help="experiment file (default: experiments/configs/quickstart.yaml)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT,
                   help=f"port to listen on (default {DEFAULT_PORT}; 0 picks a free one)")
    p.add_argument("--host", default=DEFAULT_HOST,
                   help="address to listen on (default 127.0.0.1: this machine only)")


def required_assets() -> list[str]:
    """The ``name@version`` npm packages the page loads through Solara's CDN proxy."""
    try:
        import solara
    except ImportError:
        return list(FALLBACK_ASSETS)
    root = Path(solara.__file__).parent
    found: dict[str, str] = {}
    try:
        template = (root / "server/templates/solara.html.j2").read_text()
        grid = (root / "widgets/vue/gridlayout.vue").read_text()
        from solara.server import settings

        fontawesome = settings.assets.fontawesome_path
    except (OSError, ImportError, AttributeError):
        return list(FALLBACK_ASSETS)
    for text in (template, grid, fontawesome):
        for spec in re.findall(_SPEC, text):
            name = spec.rsplit("@", 1)[0]
            if name == "@widgetti/solara-vuetify3-app":  # Vue 3 app: ipyvuetify 3 only
                continue
            found.setdefault(name, spec)
    wanted = {s.rsplit("@", 1)[0] for s in FALLBACK_ASSETS}
    if not wanted <= set(found):
        return list(FALLBACK_ASSETS)
    return [found[n] for n in sorted(wanted)]


def assets_dir() -> Path:
    """Where the page's front-end packages are kept (one directory per ``name@version``)."""
    if os.environ.get(ENV_ASSETS):
        return Path(os.environ[ENV_ASSETS]).expanduser()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "tao-arena" / "solara-cdn"


def _complete(target: Path) -> bool:
    return (target / ".tao-arena-complete").exists()


def ensure_browser_assets(
    root: Path | None = None,
    specs: Sequence[str] | None = None,
    log: Callable[[str], None] = print,
) -> Path:
    """Install the page's front-end packages into ``root`` (once); the directory.

    Each ``name@version`` is fetched with ``npm pack`` from the npm registry and unpacked
    to ``root/name@version/``. ``RuntimeError`` says what is missing if npm is not
    available or a package cannot be fetched.
    """
    root = root or assets_dir()
    specs = list(specs or required_assets())
    missing = [s for s in specs if not _complete(root / s)]
    if not missing:
        return root
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(
            "the page needs these npm packages and npm is not installed: "
            + ", ".join(missing) + f" (install Node.js and npm, or put them in {root})")
    root.mkdir(parents=True, exist_ok=True)
    log(f"tao-arena viz: installing the page's browser packages from the npm registry "
        f"into {root} (once): {', '.join(missing)}")
    with tempfile.TemporaryDirectory(prefix="tao-arena-npm-") as tmp:
        for spec in missing:
            try:
                out = subprocess.run(
                    [npm, "pack", spec, "--json", "--pack-destination", tmp],
                    capture_output=True, text=True, timeout=300, check=True, cwd=tmp,
                ).stdout
                info = json.loads(out[out.index("["):])
                tarball = Path(tmp) / info[0]["filename"]
                if not tarball.exists():
                    tarball = next(Path(tmp).glob("*.tgz"))
            except (subprocess.SubprocessError, ValueError, KeyError, IndexError,
                    StopIteration) as err:
                detail = getattr(err, "stderr", "") or str(err)
                raise RuntimeError(f"could not fetch {spec} with npm: {detail.strip()}") from None
            target = root / spec
            if target.exists():
                shutil.rmtree(target)
            target.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=root))
            try:
                with tarfile.open(tarball) as tf:
                    tf.extractall(staging, filter="data")
                (staging / "package").rename(target)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
            tarball.unlink()
            (target / ".tao-arena-complete").write_text(spec + "\n")
    return root


def free_port(host: str) -> int:
    """A port that is free on ``host`` right now."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def check_port_free(host: str, port: int) -> None:
    """``OSError`` unless ``host:port`` can be listened on now (e.g. another server has it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will
        s.bind((host, port))


def url_of(host: str, port: int) -> str:
    """The address a browser opens for ``host:port``."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else ("::1" if host == "::" else host)
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (or ``localhost``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def solara_command(host: str, port: int) -> list[str]:
    """The ``solara run`` command line for the page (production mode: no auto-reload)."""
    return [sys.executable, "-m", "solara", "run", APP_MODULE, "--host", host,
            "--port", str(port), "--production", "--no-open", "--log-level", "warning"]


def server_env(file: Path, assets: Path | None) -> dict[str, str]:
    """The server's environment: the experiment file, the assets, no telemetry."""
    env = dict(os.environ)
    env[ENV_FILE] = str(file)
    env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    if assets is not None:
        env["SOLARA_ASSETS_PROXY_CACHE_DIR"] = str(assets)
    return env


def _wait_listening(host: str, port: int, proc: subprocess.Popen[bytes],
                    timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    target = "127.0.0.1" if host in ("0.0.0.0", "") else ("::1" if host == "::" else host)
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        with contextlib.suppress(OSError), socket.create_connection((target, port), 0.5):
            return True
        time.sleep(0.2)
    return False


def run(args: argparse.Namespace) -> int:
    """Validate the file, then serve the page until interrupted; the exit code."""
    from experiments.loader import ConfigError
    from experiments.plan import load_plan

    file = Path(args.file).expanduser() if args.file else default_file()
    try:
        plan = load_plan(file)
    except ConfigError as err:
        print(f"tao-arena: error: {err}", file=sys.stderr)
        return 2
    if not 0 <= args.port <= 65535:
        print(f"tao-arena: error: --port must be in [0, 65535], got {args.port}",
              file=sys.stderr)
        return 2
    host = args.host
    try:
        port = args.port or free_port(host)
        check_port_free(host, port)
    except OSError as err:
        print(f"tao-arena: error: cannot listen on {host}:{args.port}: "
              f"{err.strerror or err}", file=sys.stderr)
        return 2
    if not is_loopback(host):
        print(f"tao-arena viz: warning: listening on {host}: the page has no login, anyone "
              "who can reach this address can run and reset the model", file=sys.stderr)
    try:
        assets: Path | None = ensure_browser_assets()
    except (RuntimeError, OSError) as err:
        print(f"tao-arena viz: warning: {err}; the page may not load without them",
              file=sys.stderr)
        assets = None
    cmd = solara_command(host, port)
    print(f"tao-arena viz: starting the page for {file} ({plan.name})...", flush=True)
    proc = subprocess.Popen(cmd, env=server_env(file.resolve(), assets))

    def stop(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        if not _wait_listening(host, port, proc, START_TIMEOUT_S):
            code = proc.poll()
            print(f"tao-arena: error: the page server did not start on {host}:{port}"
                  + (f" (exit code {code})" if code is not None else ""), file=sys.stderr)
            return 1
        print(f"tao-arena viz: open {url_of(host, port)}  (Ctrl-C stops)", flush=True)
        return proc.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
