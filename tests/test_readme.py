"""The README's Python snippets run, as written except for their sizes.

Each ```python block of README.md runs in order in one namespace (later snippets use names
of earlier ones), in a temporary directory, with the documented sizes replaced by short ones
(``SHORT``: each documented text must still be in the README, so an edited snippet fails here
instead of running unshortened). Snippet 2 at its short size does not reach phi = 0.9: t0's
warning is expected there.
"""

import importlib.util
import re
import warnings
from pathlib import Path

import pytest

from tnmbl.errors import AnalysisWarning

README = Path(__file__).resolve().parents[1] / "README.md"

#: per snippet (in README order): (documented text, short text)
SHORT = [
    [("L=32, U=1.0, g=0.1, n_max=4", "L=8, U=1.0, g=0.1, n_max=4"),
     ("[2]*12 + [0]*8 + [2]*12", "[2]*3 + [0]*2 + [2]*3"), ("t_final=5.0, chi_max=128", "t_final=0.5, chi_max=16")],
    [("rotor(L=64, g=0.5)", "rotor(L=8, g=0.5)"), ("M=8192", "M=16"), ("t_final=100.0", "t_final=1.0"),
     ("t_final=1e3, n_log=200", "t_final=10.0, n_log=20")],
    [("xxz(32, g=1.0, J=0.5)", "xxz(8, g=1.0, J=0.5)"), ("sites=[10, 16]", "sites=[2, 5]"),
     ("chi_max=128", "chi_max=16"), ("rotor(64, g=1.0)", "rotor(8, g=1.0)"), ("4096", "16"),
     ("t_final=100,", "t_final=10,"), ("window=(50, 100)", "window=(5, 10)"), ("t_max=2.0", "t_max=1.0"),
     ("window=(1.5, 2.0)", "window=(0.5, 1.0)"), ("window=(0.5, 2.0)", "window=(0.2, 1.0)"),
     ("in (32, 64)", "in (8, 16)")],
    [("chi_max=64)", "chi_max=16)")],   # operator transport: already small (L = 8)
    [("L=16, g=1.0, J=0.3", "L=8, g=1.0, J=0.3"), ("(6, 10)", "(2, 5)"), ("n_samples=32", "n_samples=3"),
     ("t_final=4.0, chi_max=64", "t_final=0.4, chi_max=16"), ("L=16, U=1.0", "L=8, U=1.0")],
    [("L=32, g=0.3", "L=10, g=0.3"), ("bath=(0, 8)", "bath=(0, 4)"),
     ("t_final=10, chi_max=64", "t_final=0.2, chi_max=16"), ("xxz(L=32, g=1.0)", "xxz(L=8, g=1.0)"),
     ("t_final=10)", "t_final=0.2)")],
]


def snippets():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_every_snippet_has_its_short_sizes():
    assert len(snippets()) == len(SHORT), "a README snippet was added or removed: update SHORT"


def test_readme_snippets_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {}
    for i, (code, short) in enumerate(zip(snippets(), SHORT)):
        for old, new in short:
            assert old in code, f"snippet {i + 1}: {old!r} is no longer in the README; update SHORT"
            code = code.replace(old, new)
        if importlib.util.find_spec("torch") is None:  # the GPU line runs on numpy arrays here
            code = code.replace('array_backend="torch"', 'array_backend="numpy"')
        with warnings.catch_warnings():
            if i == 1:
                warnings.simplefilter("ignore", AnalysisWarning)  # phi does not reach 0.9 at the short size
            try:
                exec(compile(code, f"README.md snippet {i + 1}", "exec"), namespace)
            except Exception as exc:  # noqa: BLE001 -- name the snippet
                pytest.fail(f"README snippet {i + 1} failed: {type(exc).__name__}: {exc}")
