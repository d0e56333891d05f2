"""Load the scripts of analysis/ as modules, and make small versions of the sweeps they read."""

import importlib.util
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def load_script(name):
    """``analysis/<name>.py`` as a module (the scripts are not a package)."""
    path = ROOT / "analysis" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"analysis_{name}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def small_copy(src, dest_dir, changes, name=None):
    """``src`` (a YAML under runs/) with ``changes`` ({dotted key: value}; ``None`` deletes) and its
    output folder (or path) in ``dest_dir``, written to ``dest_dir/<name>``; returns the path."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    raw = yaml.safe_load((ROOT / src).read_text())
    for key, value in changes.items():
        *head, last = key.split(".")
        d = raw
        for k in head:
            d = d.setdefault(k, {})
        if value is None:
            d.pop(last, None)
        else:
            d[last] = value
    if "execution" in raw:
        raw["execution"]["output_dir"] = str(dest_dir / "sweep")
    else:
        raw.setdefault("output", {})["path"] = str(dest_dir / "run.h5")
    out = dest_dir / (name or Path(src).name)
    out.write_text(yaml.safe_dump(raw, sort_keys=False))
    return out
