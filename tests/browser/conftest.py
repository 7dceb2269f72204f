"""Fixtures for tier 2: a real JupyterLab on 127.0.0.1 driven by Playwright in headless Chromium.

The recipe: isolated Jupyter state directories (config, runtime, settings, workspaces, IPython
and matplotlib dirs in a temporary folder, news and update checks off, but the environment's
labextensions left visible so the widget manager loads), our own server process
group (shut down through the REST API, then signals), Debian's /usr/bin/chromium through
Playwright's ``executable_path`` (``playwright install`` needs the internet), a persistent
context with a fresh profile.

Environment switches
--------------------
PIDLAB_SKIP_BROWSER=1
    Skip the browser tests with that reason. Without it a missing Chromium or Playwright FAILS
    with install instructions: these tests never skip silently.
PIDLAB_CHROMIUM=/path/to/chromium
    Browser executable (default /usr/bin/chromium, else ``chromium`` on PATH).
PIDLAB_BROWSER_DISABLE_WIDGETS=1
    Negative control: disable the ipywidgets front end (@jupyter-widgets/jupyterlab-manager) in
    JupyterLab's page config. The browser test must then FAIL ("widget did not render").
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "shots"
TOKEN = "pidlab-ci-token"
INSTALL_HELP = (
    "The browser tests need Playwright (Python) and a Chromium: "
    "`.venv/bin/pip install -e '.[dev]'` (brings playwright) and `apt-get install -y chromium fonts-dejavu-core` "
    "(Debian; `playwright install chromium` needs the internet). Set PIDLAB_CHROMIUM to use another executable, "
    "or PIDLAB_SKIP_BROWSER=1 to skip these tests on purpose."
)
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def chromium_path() -> str | None:
    explicit = os.environ.get("PIDLAB_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).exists() else None
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser_requirements() -> str:
    """The Chromium executable; fail (or skip only when asked to) if anything is missing."""
    if _truthy("PIDLAB_SKIP_BROWSER"):
        pytest.skip("PIDLAB_SKIP_BROWSER=1: browser tests skipped on request")
    missing = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        missing.append(f"playwright is not importable ({exc})")
    exe = chromium_path()
    if exe is None:
        missing.append(f"no Chromium at {os.environ.get('PIDLAB_CHROMIUM') or '/usr/bin/chromium'} or on PATH")
    if missing:
        pytest.fail("; ".join(missing) + ". " + INSTALL_HELP, pytrace=False)
    return exe  # type: ignore[return-value]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def isolated_env(base: Path) -> dict[str, str]:
    """Fresh Jupyter/IPython/matplotlib state dirs; the venv's lab extensions stay visible."""
    env = dict(os.environ)
    dirs = {
        "JUPYTER_CONFIG_DIR": "config", "JUPYTER_RUNTIME_DIR": "runtime", "JUPYTERLAB_SETTINGS_DIR": "settings",
        "JUPYTERLAB_WORKSPACES_DIR": "workspaces", "IPYTHONDIR": "ipython", "MPLCONFIGDIR": "mpl",
    }
    for var, sub in dirs.items():
        (base / sub).mkdir(parents=True, exist_ok=True)
        env[var] = str(base / sub)
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env.pop("JUPYTER_PATH", None)
    settings = base / "settings"
    # No news toast, no update check (no network), and render every cell (no windowing), so the
    # panel output exists in the DOM wherever it is in the notebook.
    _write_json(settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings",
                {"fetchNews": "false", "checkForUpdates": False})
    _write_json(settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings",
                {"windowingMode": "none"})
    if _truthy("PIDLAB_BROWSER_DISABLE_WIDGETS"):
        _write_json(base / "config" / "labconfig" / "page_config.json",
                    {"disabledExtensions": {"@jupyter-widgets/jupyterlab-manager": True}})
    return env


@dataclass
class LabServer:
    url: str
    token: str
    root: Path
    log: Path
    proc: subprocess.Popen[bytes]
    sessions_seen: set[str] = field(default_factory=set)

    def api(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"{self.url}{path}", data=data, method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"


def _wait_ready(server: LabServer, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    for path in (f"/api/status?token={server.token}", f"/lab?token={server.token}"):
        while True:
            if server.proc.poll() is not None:
                pytest.fail(f"JupyterLab exited with code {server.proc.returncode}:\n{server.log_tail()}", pytrace=False)
            try:
                with urllib.request.urlopen(f"{server.url}{path}", timeout=5) as resp:
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab not ready after {timeout:.0f} s:\n{server.log_tail()}", pytrace=False)
            time.sleep(0.25)


@pytest.fixture(scope="session")
def lab_server(browser_requirements: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    base = tmp_path_factory.mktemp("lab")
    root = base / "root"
    root.mkdir()
    shutil.copy(ROOT / "notebooks" / "getting_started.ipynb", root / "getting_started.ipynb")
    env = isolated_env(base / "state")
    port = _free_port()
    cmd = [
        sys.executable, "-m", "jupyterlab", "--no-browser",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}", f"--IdentityProvider.token={TOKEN}", "--ServerApp.password=",
        "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly", "--LabApp.expose_app_in_browser=True",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log = base / "jupyterlab.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    server = LabServer(f"http://127.0.0.1:{port}", TOKEN, root, log, proc)
    t0 = time.monotonic()
    try:
        _wait_ready(server)
        print(f"\nJupyterLab ready in {time.monotonic() - t0:.1f} s", file=sys.stderr)
        yield server
    finally:
        try:
            server.api("POST", "/api/shutdown")
            proc.wait(timeout=20)
        except Exception:
            pass
        if proc.poll() is None:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(proc.pid, sig)
                    proc.wait(timeout=10)
                    break
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    continue


@pytest.fixture(scope="session")
def browser_ctx(browser_requirements: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    t0 = time.monotonic()
    with sync_playwright() as pw:
        try:
            ctx = pw.chromium.launch_persistent_context(
                str(profile), executable_path=browser_requirements, headless=True, args=CHROMIUM_ARGS,
                viewport={"width": 1280, "height": 1300},
            )
        except Exception as exc:
            pytest.fail(f"could not launch {browser_requirements}: {exc}. {INSTALL_HELP}", pytrace=False)
        print(f"\nChromium ready in {time.monotonic() - t0:.1f} s", file=sys.stderr)
        try:
            yield ctx
        finally:
            ctx.close()


@pytest.fixture
def page(browser_ctx: Any, lab_server: LabServer) -> Iterator[Any]:
    pg = browser_ctx.new_page()
    pg.set_default_timeout(60_000)
    pg.page_errors = []  # type: ignore[attr-defined]
    pg.on("pageerror", lambda exc: pg.page_errors.append(str(exc)))  # type: ignore[attr-defined]
    try:
        yield pg
    finally:
        pg.close()
        # Leave the server bare for the next test: delete the kernel sessions this test started.
        try:
            for s in lab_server.api("GET", "/api/sessions"):
                lab_server.api("DELETE", f"/api/sessions/{s['id']}")
        except Exception:
            pass
