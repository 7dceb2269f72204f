"""Sphinx configuration for the pidlab documentation (built by the tests with -W)."""

from __future__ import annotations

project = "pidlab"
author = "the pidlab team"
copyright = "2026, the pidlab team"
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
]
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
autodoc_typehints = "none"
autodoc_member_order = "bysource"
autodoc_default_options = {"members": False}
html_theme = "alabaster"
html_static_path: list[str] = []
exclude_patterns = ["_build"]
nitpicky = False
suppress_warnings = ["ref.python"]

# Docstrings write alphabet sizes as |X1|, |X2|, |Y| (numpydoc shapes); render them literally.
rst_epilog = "\n".join(
    rf".. |{v}| replace:: \|{v}\|" for v in ("X1", "X2", "Y", "X", "Y1", "Y2", "A", "S", "X_i")
)
