"""The documentation site: it builds with warnings as errors, executes every notebook, and
documents every public name.

One build (module fixture) serves every test here. It is the same command as ``make docs``
(``-W --keep-going``), into a temporary folder. The build executes every notebook of
``notebooks/`` with myst-nb and fails on any cell error, which is what replaced running each
notebook separately in tests/test_notebooks.py; ``test_a_failing_cell_fails_the_build`` proves
that with the site's own execution settings.
"""

from __future__ import annotations

import html
import importlib
import inspect
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
NOTEBOOKS = ROOT / "notebooks"

# Modules whose public names (``__all__``) the API reference must document.
PUBLIC_MODULES = (
    "pidlab",
    "pidlab.examples",
    "pidlab.exceptions",
    "pidlab.study",
    "pidlab.hardness.rtt",
    "pidlab.widgets",
    "pidlab.testing",
)


def _sphinx(src: Path, out: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        # -T: on an exception (a failing notebook cell) print the whole traceback, cell included
        [sys.executable, "-m", "sphinx", "-T", "-W", "--keep-going", "-q", "-b", "html", str(src), str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen[str], timeout: float) -> tuple[int, str]:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return -1, f"timed out after {timeout} s\n{out}{err}"
    return proc.returncode, out + err


def _control_project(root: Path) -> Path:
    """A one-page Sphinx project with the site's own myst-nb settings and a notebook whose cell raises."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    conf = runpy.run_path(str(DOCS / "conf.py"))
    settings = {k: v for k, v in conf.items() if k.startswith(("nb_", "myst_")) and isinstance(v, (str, bool, int, float, list))}
    src = root / "src"
    src.mkdir(parents=True)
    (src / "conf.py").write_text(
        'extensions = ["myst_nb"]\nexclude_patterns = ["_build"]\n' + "".join(f"{k} = {v!r}\n" for k, v in settings.items())
    )
    (src / "index.rst").write_text("Control\n=======\n\n.. toctree::\n\n   broken\n")
    nb = new_notebook(cells=[new_markdown_cell("# Broken"), new_code_cell("raise RuntimeError('cell failure on purpose')")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, src / "broken.ipynb")
    return src


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The site, built once; and, at the same time (it mostly waits for a kernel), the control project."""
    out = tmp_path_factory.mktemp("docs") / "html"
    control_root = tmp_path_factory.mktemp("control")
    control = _sphinx(_control_project(control_root), control_root / "out")
    site_rc, site_log = _finish(_sphinx(DOCS, out), timeout=1200)
    control_rc, control_log = _finish(control, timeout=300)
    return {"site": out, "site_rc": site_rc, "site_log": site_log, "control_rc": control_rc, "control_log": control_log}


@pytest.fixture(scope="module")
def site(builds: dict[str, object]) -> Path:
    assert builds["site_rc"] == 0, f"the docs build failed (warnings are errors):\n{str(builds['site_log'])[-6000:]}"
    return builds["site"]  # type: ignore[return-value]


def _text(page: Path | str) -> str:
    """The visible text of an HTML page (or fragment), tags removed, entities decoded, whitespace collapsed."""
    raw = page.read_text(encoding="utf-8") if isinstance(page, Path) else page
    raw = re.sub(r"<(script|style)\b.*?</\1>", " ", raw, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", raw)))


def _plain(docstring_line: str) -> str:
    """A docstring line as the reader sees it: rst literals unmarked, whitespace collapsed."""
    return re.sub(r"\s+", " ", docstring_line.replace("``", "")).strip()


def _notebooks() -> list[Path]:
    return sorted(p for p in NOTEBOOKS.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def test_docs_build_without_warnings(site: Path) -> None:
    for page in ("index", "theory", "validity", "develop", "notebooks", "api"):
        assert (site / f"{page}.html").exists(), page
    assert "furo" in (site / "index.html").read_text(encoding="utf-8").lower()


def test_api_reference_lists_decompose_with_its_docstring(site: Path) -> None:
    import pidlab

    doc = inspect.getdoc(pidlab.decompose)
    summary = _plain(doc.splitlines()[0])
    # The API reference page lists it, with the docstring's summary line, linked to its entry ...
    api = (site / "api.html").read_text(encoding="utf-8")
    assert 'href="api/core.html#pidlab.decompose"' in api
    assert summary in _text(site / "api.html")
    # ... and the entry renders the whole numpydoc docstring (napoleon sections included).
    core = (site / "api" / "core.html").read_text(encoding="utf-8")
    start = core.index('id="pidlab.decompose"')
    entry = _text(core[start : core.index("</dl>", start)])
    assert summary in entry
    for phrase in ("A registered measure name or alias", "Backend options; only with an explicit", "Returns", "Raises"):
        assert phrase in entry, phrase


def _documented_ids(site: Path) -> set[str]:
    ids: set[str] = set()
    for page in site.rglob("*.html"):
        if "_modules" in page.parts or "_notebooks" in page.parts:
            continue
        ids.update(re.findall(r'\bid="([^"]+)"', page.read_text(encoding="utf-8")))
    return ids


def test_every_public_name_is_documented(site: Path) -> None:
    ids = _documented_ids(site)
    missing = []
    for modname in PUBLIC_MODULES:
        mod = importlib.import_module(modname)
        assert f"module-{modname}" in ids or modname == "pidlab", f"{modname} has no module entry"
        for name in mod.__all__:
            obj = getattr(mod, name)
            targets = {f"{modname}.{name}"}
            if inspect.ismodule(obj):
                targets.add(f"module-{obj.__name__}")
            elif hasattr(obj, "__qualname__") and hasattr(obj, "__module__"):
                targets.add(f"{obj.__module__}.{obj.__qualname__}")  # re-exports: documented where defined
            if not targets & ids:
                missing.append(f"{modname}.{name}")
    assert not missing, f"public names without an entry in the API reference (docs/api/*.rst): {missing}"


def test_every_notebook_is_rendered_with_its_outputs(site: Path) -> None:
    for nb in _notebooks():
        page = site / "_notebooks" / nb.relative_to(NOTEBOOKS).with_suffix(".html")
        assert page.exists(), f"{nb.name} is not in the site"
        raw = page.read_text(encoding="utf-8")
        assert "cell_output" in raw, f"{nb.name} was rendered without outputs (not executed?)"
        assert "Traceback (most recent call last)" not in raw, f"{nb.name} shows an error"


def test_getting_started_page_shows_computed_numbers(site: Path) -> None:
    text = _text(site / "_notebooks" / "getting_started.html")
    # `%pidlab compare xor`: computed at build time, never typed in the notebook's source.
    assert "+1.000000 (net synergy)" in text
    # `pidlab.decompose(d, measure="broja")` on AND: R = 0.311278 bits with a certified bracket.
    assert "redundancy R 0.311278" in text


def test_hardness_and_bounds_pages_show_computed_numbers(site: Path) -> None:
    text = _text(site / "_notebooks" / "hardness_rtt.html")
    for out in (
        "H(Y | X1, X2) = 0 bits",
        "joint -> schedule gives the same schedule: True",
        "deterministic joint found: True",
        "schedule: None | MILP: None",
        "deterministic joint from the marginals: None",
        "lessons, solvable: False",
    ):
        assert out in text, out
    assert len(re.findall(r"<img [^>]*src=\"[^\"]+\.png\"", (site / "_notebooks" / "hardness_rtt.html").read_text())) >= 2
    text = _text(site / "_notebooks" / "semi_supervised_bounds.html")
    assert "S in [0.5000, 0.5000] bits; oracle S = 0.5000 bits" in text


def test_theory_page_is_numbered_and_cited(site: Path) -> None:
    text = _text(site / "theory.html")
    for title in ("1. Shannon quantities", "2.1 BROJA", "3.2 Lower bound via disagreement", "5.1 The majorisation meet",
                  "6. NP-hardness", "7. References"):
        assert title in text, title
    assert "arXiv:2306.04539" in text


def test_repository_does_not_depend_on_material_outside_it() -> None:
    """Docs, notebooks, code and tests cite docs/theory.rst, never the team's notes beside the repository."""
    pattern = re.compile(r"math\.md|\.\./shared\b|\bshared/(reference|browser-testing|math|design|conventions)")
    hits = []
    for folder in ("docs", "notebooks", "pidlab", "tests"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix not in {".py", ".rst", ".ipynb", ".md", ".txt", ".toml"} or "_build" in path.parts:
                continue
            if "_notebooks" in path.parts:
                continue
            for i, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
                if pattern.search(line) and path != Path(__file__).resolve():
                    hits.append(f"{path.relative_to(ROOT)}:{i}: {line.strip()[:100]}")
    assert not hits, "\n".join(hits)


def test_a_failing_cell_fails_the_build(builds: dict[str, object]) -> None:
    """Negative control: with the site's own myst-nb settings, one raising cell fails the build."""
    conf = runpy.run_path(str(DOCS / "conf.py"))
    assert conf["nb_execution_mode"] in ("force", "cache")
    assert conf["nb_execution_raise_on_error"] is True
    assert not conf.get("nb_execution_allow_errors", False)
    assert builds["control_rc"] != 0, "a notebook cell raised but the build succeeded"
    assert "cell failure on purpose" in str(builds["control_log"]), str(builds["control_log"])[-3000:]
