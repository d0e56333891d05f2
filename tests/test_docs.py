"""The API reference (Sphinx, docs/) builds without a warning.

The docs are copied to a temporary directory first (autosummary writes its generated pages
next to the sources) and built in a subprocess importing this source tree.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_sphinx_api_reference_builds_without_warnings(tmp_path):
    pytest.importorskip("sphinx")
    docs = tmp_path / "docs"
    shutil.copytree(ROOT / "docs", docs, ignore=shutil.ignore_patterns("_build", "_autosummary"))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
               MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", str(docs),
                           str(tmp_path / "html")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"sphinx failed (rc {proc.returncode}):\n{proc.stderr[-6000:]}"
    html = (tmp_path / "html" / "_autosummary")
    pages = {p.name for p in html.glob("*.html")}
    for module in ("tnmbl.evolution.resultsio", "tnmbl.evolution.rows", "tnmbl.states.mps", "tnmbl.timegrid"):
        assert f"{module}.html" in pages, f"{module} is missing from the API reference"
