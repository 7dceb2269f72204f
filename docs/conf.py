"""Sphinx configuration for the pidlab documentation.

Build it with ``make docs`` (output: docs/_build/html/index.html); the tests build it with
``-W`` (warnings are errors). The notebooks of ``notebooks/`` are copied into
``docs/_notebooks/`` (git-ignored, see docs/.gitignore) when this file is read, and executed
by myst-nb during every build: a cell that raises fails the build.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
# Document this checkout's pidlab (the notebooks' kernel imports the installed one: `make docs`
# installs this checkout in editable mode).
sys.path.insert(0, str(ROOT))

project = "pidlab"
author = "the pidlab team"
copyright = "2026, the pidlab team"
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "myst_nb",
]
source_suffix = {".rst": "restructuredtext", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "**.ipynb_checkpoints", "jupyter_execute"]

# ---- API reference: autodoc + autosummary (summary tables only, no generated stub files) + napoleon
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
autodoc_typehints = "none"
autodoc_member_order = "bysource"
autosummary_generate = False
nitpicky = False

# Docstrings write alphabet sizes as |X1|, |X2|, |Y| (numpydoc shapes); render them literally.
rst_epilog = "\n".join(
    rf".. |{v}| replace:: \|{v}\|" for v in ("X1", "X2", "Y", "X", "Y1", "Y2", "A", "S", "X_i")
)

# ---- HTML
html_theme = "furo"
html_title = "pidlab"
html_static_path: list[str] = []

# ---- notebooks (myst-nb): executed at every build, errors fail the build
nb_execution_mode = "force"
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_execution_timeout = 900  # seconds per cell; the slowest cell (a dask study) takes a few seconds
nb_execution_in_temp = True  # run in a temporary folder: nothing is written into the source tree
nb_merge_streams = True
myst_enable_extensions = ["dollarmath"]

NOTEBOOKS_SRC = ROOT / "notebooks"
NOTEBOOKS_DST = DOCS / "_notebooks"


def _sync_notebooks() -> None:
    """Mirror notebooks/**/*.ipynb into docs/_notebooks/ (Sphinx reads sources only below docs/).

    A copy is rewritten only when its content changed (keeping the source's mtime, so an
    incremental build re-reads only edited notebooks); copies of deleted notebooks are removed.
    """
    wanted = {
        p.relative_to(NOTEBOOKS_SRC): p
        for p in sorted(NOTEBOOKS_SRC.rglob("*.ipynb"))
        if ".ipynb_checkpoints" not in p.parts
    }
    NOTEBOOKS_DST.mkdir(exist_ok=True)
    for old in NOTEBOOKS_DST.rglob("*.ipynb"):
        if old.relative_to(NOTEBOOKS_DST) not in wanted:
            old.unlink()
    for rel, src in wanted.items():
        dst = NOTEBOOKS_DST / rel
        if dst.exists() and dst.read_bytes() == src.read_bytes():
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
        shutil.copy2(src, tmp)
        os.replace(tmp, dst)  # atomic: a concurrent build never reads half a file


_sync_notebooks()


# Numpydoc types such as ``array_like, shape (n, m)`` make Sphinx cross-reference every word of the
# type; "shape" would then resolve to whichever documented ``.shape`` attribute it finds first (a
# wrong link, and an ambiguity warning where there are several). It is a word there, not a type.
_TYPE_WORDS = frozenset({"shape"})


def _unlink_type_words(app: object, doctree: object) -> None:
    from sphinx.addnodes import pending_xref

    for node in list(doctree.findall(pending_xref)):  # type: ignore[attr-defined]
        if node.get("refdomain") == "py" and node.get("reftype") == "class" and node.get("reftarget") in _TYPE_WORDS:
            node.replace_self(node.children)


def setup(app: object) -> dict[str, bool]:
    app.connect("doctree-read", _unlink_type_words)  # type: ignore[attr-defined]
    return {"parallel_read_safe": True, "parallel_write_safe": True}
