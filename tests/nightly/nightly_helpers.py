"""Helpers of the nightly convergence suite: the report records, the slope fit, the report
writer (imported by this name: a module named ``conftest`` would be ambiguous).

Run: ``python -m pytest -m nightly tests/nightly`` (26 studies, 2.5 minutes on 2 shared cores). The report
goes to ``$TNMBL_NIGHTLY_DIR`` (default ``out/nightly/`` in the repository): ``report.md``
(one table row per model / method / study, with the fitted slope, the expectation and
pass / FAIL) and one PNG per study (``dt.png``, ``chi.png``, ``classical.png``).
"""

import json
import os
import time
from pathlib import Path

import numpy as np

RECORDS = []
OUT = Path(os.environ.get("TNMBL_NIGHTLY_DIR", Path(__file__).resolve().parents[2] / "out" / "nightly"))


class Report:
    """``add(study, case, xs, errors, slope=, expected=, passed=, note=)`` records one study."""

    def add(self, study, case, xs, errors, *, x_label, passed, slope=None, expected="", note=""):
        RECORDS.append({"study": study, "case": case, "xs": [float(x) for x in xs],
                        "errors": [float(e) for e in errors], "x_label": x_label, "slope": slope,
                        "expected": expected, "passed": bool(passed), "note": note})


def fit_slope(xs, errors):
    """Slope of log(error) against log(x) (least squares)."""
    return float(np.polyfit(np.log(xs), np.log(errors), 1)[0])


def _plots():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = []
    for study in dict.fromkeys(r["study"] for r in RECORDS):
        recs = [r for r in RECORDS if r["study"] == study and len(r["xs"]) > 1]
        if not recs:
            continue
        fig, ax = plt.subplots(figsize=(8.4, 4.6))
        colors = plt.get_cmap("tab20").colors
        for i, r in enumerate(recs):
            ax.loglog(r["xs"], np.maximum(r["errors"], 1e-300), marker="os^Dv<>"[i % 7], ls=["-", "--", ":"][i % 3],
                      color=colors[i % len(colors)], label=r["case"])
        ax.set_xlabel(recs[0]["x_label"])
        ax.set_ylabel("max |error| of the observables")
        ax.set_title(study)
        ax.legend(fontsize=6, loc="center left", bbox_to_anchor=(1.01, 0.5))
        ax.grid(True, which="both", alpha=0.3)
        name = study.split()[0].lower().replace("/", "_") + ".png"
        fig.tight_layout()
        fig.savefig(OUT / name, dpi=110)
        plt.close(fig)
        files.append(name)
    return files


def write_report():
    """Write report.md, report.json and the plots, if any study was recorded."""
    if not RECORDS:
        return
    from tnmbl import versions
    from tnmbl.runs.storage import git_commit

    OUT.mkdir(parents=True, exist_ok=True)
    plots = _plots()
    lines = [f"# tnmbl nightly convergence report ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})", "",
             f"git {git_commit()}; " + ", ".join(f"{k} {v}" for k, v in versions().items() if v), "",
             "| study | case | x | max abs error | slope | expected | result |", "|---|---|---|---|---|---|---|"]
    for r in RECORDS:
        xs = ", ".join(f"{x:g}" for x in r["xs"])
        errs = ", ".join(f"{e:.2e}" for e in r["errors"])
        slope = f"{r['slope']:.2f}" if r["slope"] is not None else "-"
        lines.append(f"| {r['study']} | {r['case']} | {r['x_label']} = {xs} | {errs} | {slope} | {r['expected']} | "
                     f"{'pass' if r['passed'] else '**FAIL**'}{' (' + r['note'] + ')' if r['note'] else ''} |")
    lines += [""] + [f"![{p}]({p})" for p in plots]
    (OUT / "report.md").write_text("\n".join(lines) + "\n")
    (OUT / "report.json").write_text(json.dumps(RECORDS, indent=1))
    print(f"\nnightly report: {OUT / 'report.md'}")
