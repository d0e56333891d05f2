"""Sphinx configuration of the tnmbl API reference.

Build: ``python -m sphinx -W -b html docs docs/_build/html`` (warnings are errors; the
default test suite builds it too, ``tests/test_docs.py``). The reference is generated from
the docstrings (numpy style, read by napoleon) of every module of the package.
"""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))

project = "tnmbl"
author = "the tnmbl developers"
extensions = ["sphinx.ext.autodoc", "sphinx.ext.autosummary", "sphinx.ext.napoleon", "sphinx.ext.mathjax"]
autosummary_generate = True
autosummary_imported_members = False
# ignore-module-all: a package page documents only what it defines, not the names its __all__
# re-exports (those are documented once, in their own module)
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": True, "ignore-module-all": True}
autodoc_typehints = "none"
autodoc_mock_imports = ["cupy", "torch"]
napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_use_rtype = False
napoleon_use_ivar = True  # "Attributes" sections as fields: dataclass fields are not described twice
exclude_patterns = ["_build", "figures", "config.md"]
templates_path = ["_templates"]
html_theme = "alabaster"
# re-exported names (tnmbl.Chain is tnmbl.chain.Chain) make type cross-references ambiguous; each
# resolves to the same object, so the ambiguity warning says nothing
suppress_warnings = ["autosummary.import_cycle", "ref.python"]
nitpicky = False
