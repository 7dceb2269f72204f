"""The README cannot rot: its code blocks run as written, and CI runs its two commands.

Every fenced ``python`` block runs in a fresh interpreter of this environment; every ``sh``
block runs with ``bash -e`` from the repository root with a PATH that does NOT contain the
virtual environment (a fresh shell), so a block that needs ``source .venv/bin/activate`` must
say so. Blocks made of ``make`` commands are the set-up and test commands themselves: the test
checks that each is a Makefile target and that ``.ci/run`` runs the README's two commands.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


def _blocks(lang: str) -> list[str]:
    return [body for tag, body in FENCE.findall(README.read_text()) if tag == lang]


def _commands(body: str) -> list[str]:
    return [ln.split("#")[0].strip() for ln in body.splitlines() if ln.split("#")[0].strip()]


def _is_make_block(body: str) -> bool:
    return all(c.startswith("make ") for c in _commands(body))


def test_every_block_is_tagged() -> None:
    tags = [tag for tag, _ in FENCE.findall(README.read_text())]
    assert tags and all(t in ("python", "sh", "text") for t in tags), tags
    assert _blocks("python") and _blocks("sh")


@pytest.mark.parametrize("i", range(len(_blocks("python"))))
def test_python_block_runs(i: int, tmp_path: Path) -> None:
    code = _blocks("python")[i]
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert r.returncode == 0, f"README python block {i} failed:\n{code}\n{r.stderr[-3000:]}"
    assert r.stdout.strip(), "a README block that prints nothing shows the reader nothing"


def _fresh_shell_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p and p != venv_bin)
    return env


@pytest.mark.parametrize("i", [k for k, b in enumerate(_blocks("sh")) if not _is_make_block(b)])
def test_shell_block_runs_in_a_fresh_shell(i: int) -> None:
    body = _blocks("sh")[i]
    r = subprocess.run(["bash", "-e", "-c", body], capture_output=True, text=True, cwd=ROOT,
                       env=_fresh_shell_env(), timeout=600)
    assert r.returncode == 0, f"README shell block {i} failed:\n{body}\n{r.stderr[-3000:]}"
    assert "Traceback" not in r.stderr
    assert r.stdout.strip()


def test_make_commands_exist_and_ci_runs_the_readme_commands() -> None:
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([\w-]+):", makefile, re.M))
    readme_cmds = [c for b in _blocks("sh") if _is_make_block(b) for c in _commands(b)]
    assert readme_cmds == ["make demo", "make test"]
    for c in readme_cmds:
        assert c.split()[1] in targets, c
    # .ci/run tests a fresh clone with the README's commands, as written
    ci = (ROOT / ".ci" / "run").read_text()
    ci_cmds = [ln.strip() for ln in ci.splitlines() if ln.strip().startswith("make ")]
    assert ci_cmds[: len(readme_cmds)] == readme_cmds
    assert "git clone" in ci and "mktemp -d" in ci
    # every `make X` mentioned in the prose is a target too
    for t in re.findall(r"`make ([\w-]+)`", README.read_text()):
        assert t in targets, t
