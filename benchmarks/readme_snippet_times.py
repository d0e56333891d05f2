"""Run time of each README Python snippet at its documented size (the README states them).

    OMP_NUM_THREADS=1 nice -n 5 python benchmarks/readme_snippet_times.py [--only 1,2] [--limit 1500]

The snippets run in README order in one namespace (later ones use names of earlier ones), in a
temporary directory, as written (``tests/test_readme.py`` runs them at short sizes); without
torch the GPU line runs on NumPy arrays, as in the test. Prints one JSON line per snippet: wall
and CPU seconds, the load average at start and end, and whether it finished within ``--limit``
seconds.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import signal
import tempfile
import time
import warnings
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def snippets(path=README):
    return re.findall(r"```python\n(.*?)```", Path(path).read_text(), flags=re.S)


def _over_limit(*_):
    raise TimeoutError("over the time limit")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default=None, help="comma-separated snippet numbers (1-based); default all")
    ap.add_argument("--limit", type=int, default=1500, help="seconds per snippet before it is stopped")
    a = ap.parse_args(argv)
    codes = snippets()
    only = {int(x) for x in a.only.split(",")} if a.only else set(range(1, len(codes) + 1))
    signal.signal(signal.SIGALRM, _over_limit)
    namespace, rows = {}, []
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        for i, code in enumerate(codes, 1):
            if i not in only:
                continue
            if importlib.util.find_spec("torch") is None:
                code = code.replace('array_backend="torch"', 'array_backend="numpy"')
            load0, wall0, cpu0 = os.getloadavg()[0], time.perf_counter(), time.process_time()
            signal.alarm(a.limit)
            status = "finished"
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    exec(compile(code, f"README.md snippet {i}", "exec"), namespace)
            except Exception as exc:  # noqa: BLE001 -- report and go on with the next snippet
                status = f"{type(exc).__name__}: {exc}"[:200]
            finally:
                signal.alarm(0)
            rows.append({"snippet": i, "wall_s": round(time.perf_counter() - wall0, 1),
                         "cpu_s": round(time.process_time() - cpu0, 1), "load_start": round(load0, 2),
                         "load_end": round(os.getloadavg()[0], 2), "status": status})
            print(json.dumps(rows[-1]), flush=True)
    return rows


if __name__ == "__main__":
    main()
