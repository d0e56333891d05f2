"""The `tnmbl` command (in-process): validate, run with --set, resume, info, schema."""

import json

import pytest
from helpers import small_config, write_config

from tnmbl.runs.cli import main


def test_validate_lists_every_problem_and_exits_2(tmp_path, capsys):
    raw = small_config(tmp_path)
    raw["evolution"]["ordr"] = 2
    raw["model"]["g"] = -1e9
    assert main(["validate", str(write_config(tmp_path, raw))]) == 2
    err = capsys.readouterr().err
    assert "2 problem(s)" in err and "evolution.ordr: unknown key; did you mean 'order'?" in err
    assert "model.g = -1000000000.0" in err


def test_validate_prints_resolved_config(tmp_path, capsys):
    path = write_config(tmp_path, small_config(tmp_path))
    assert main(["validate", str(path), "--print", "--set", "evolution.chi_max=8"]) == 0
    out = capsys.readouterr().out
    assert "valid (bose_hubbard, bubble state, tebd2" in out and "chi_max: 8" in out
    # the default backend is resolved by size and written back: chi_max * d = 24 -> quimb, which is dense
    assert "backend: quimb" in out and "conserve: false" in out
    # L = 6 reaches chi 3 ** 3 = 27 whatever chi_max (quimb); L = 24 reaches 256: TeNPy with U(1)
    assert main(["validate", str(path), "--print", "--set", "evolution.chi_max=256", "--set", "model.L=24"]) == 0
    out = capsys.readouterr().out
    assert "backend: tenpy" in out and "conserve: true" in out


def test_run_with_overrides_info_and_resume(tmp_path, capsys):
    path = write_config(tmp_path, small_config(tmp_path, name="cli"))
    assert main(["run", str(path), "--set", "evolution.t_final=0.2", "--set", "model.g=0.05",
                 "--set", "output.figure=true"]) == 0
    cap = capsys.readouterr()
    assert "status:     finished, 3 rows, t = 0.2 of 0.2" in cap.out
    assert f"results:    {tmp_path / 'cli.h5'}" in cap.out and f"figure:     {tmp_path / 'cli.png'}" in cap.out
    assert (tmp_path / "cli.png").stat().st_size > 1000
    assert cap.err.count("event=row") == 3                  # not a terminal: one log line per output time
    assert main(["info", str(tmp_path / "cli.h5")]) == 0
    out = capsys.readouterr().out
    assert "status:     finished" in out and "progress:   3 rows, t = 0.2 of 0.2 (100.0%)" in out
    assert "g=0.05" in out and "checkpoint:" in out and "physics-tenpy" in out
    assert main(["info", str(tmp_path / "cli.h5"), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["rows"] == 3 and d["model"]["g"] == 0.05 and d["health"]["chi"] >= 1
    assert main(["resume", str(tmp_path / "cli.h5"), "--t-final", "0.3"]) == 0
    assert "finished, 4 rows, t = 0.3 of 0.3" in capsys.readouterr().out
    assert main(["run", str(path), "--set", "evolution.t_final=0.2"]) == 2   # exists: refused
    assert "tnmbl resume" in capsys.readouterr().err


def test_resume_without_file_or_checkpoint(tmp_path, capsys):
    assert main(["resume", str(tmp_path / "none.h5")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_schema_prints_options_table(capsys):
    assert main(["schema"]) == 0
    out = capsys.readouterr().out
    assert "| `chi_max` | int | `128` |" in out and "### model `bose_hubbard`" in out


def test_bad_arguments_exit_2():
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == 2


def test_progress_bar_shows_time_chi_and_truncation_error(tmp_path):
    import io

    from rich.console import Console

    from tnmbl.evolution import Row
    from tnmbl.runs.cli import BarProgress

    buf = io.StringIO()
    bar = BarProgress(Console(file=buf, force_terminal=True, width=120))
    bar.start(total_rows=4, done_rows=1, t_final=1.5)
    bar.row(Row(0.5, 10, {}, {"chi": 17, "truncation_error": 3.2e-9}), n_rows=2, total_rows=4)
    bar.finish()
    text = buf.getvalue()
    assert "t = 0.5" in text and "chi   17" in text and "trunc 3.2e-09" in text and "2/4" in text


def test_sigterm_marks_the_run_interrupted_and_resume_finishes_it(tmp_path):
    import signal
    import subprocess
    import sys

    from tnmbl.runs.storage import read_results

    raw = small_config(tmp_path, method="exact", name="term", t_final=3.0, checkpoint_every_outputs=1)
    raw["observables"]["output_dt"] = 0.05
    path = write_config(tmp_path, raw)
    with subprocess.Popen([sys.executable, "-m", "tnmbl.runs.cli", "run", str(path)], stderr=subprocess.PIPE,
                          stdout=subprocess.DEVNULL, text=True) as proc:
        for line in proc.stderr:
            if "row=5/" in line:
                proc.send_signal(signal.SIGTERM)
                break
        proc.stderr.read()
        proc.wait(timeout=60)
    assert proc.returncode == 130
    res = read_results(tmp_path / "term.h5")
    assert res["attrs"]["status"] == "interrupted" and 5 <= res["n_rows"] < 61
    assert main(["resume", str(tmp_path / "term.h5")]) == 0
    res = read_results(tmp_path / "term.h5")
    assert res["attrs"]["status"] == "finished" and list(res["step"]) == list(range(61))

