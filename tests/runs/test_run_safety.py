"""No result lost, whatever happens -- output path collisions, concurrent writers, a full
disk, hostile YAML, resume without a checkpoint, signals. The sections below are numbered by case
(1. output paths, 2. one writer, 3. full disk, 4. YAML, 6. resume, signals); each test failed on
the code before the fix (the modules new with it are imported
inside the tests, so that each test fails for its own reason there)."""

import copy
import errno
import os
import signal
import subprocess
import sys
import tracemalloc
from pathlib import Path

import h5py
import numpy as np
import pytest
import yaml
from helpers import StopAfter, small_config, write_config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_run_results import assert_same_rows

from tnmbl.errors import ConfigError
from tnmbl.runs import runner
from tnmbl.runs.cli import info_dict, main
from tnmbl.runs.config import load_config, validate_config
from tnmbl.runs.storage import read_results

ENV = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")


def cli(*args):
    return [sys.executable, "-m", "tnmbl.runs.cli", *args]


def reference(tmp_path, name="ref", **kw):
    """The undisturbed run of ``small_config`` (results under ``tmp_path/name.h5``)."""
    cfg = validate_config(small_config(tmp_path, name=name, **kw), name=name)
    runner.run(cfg)
    return cfg.results_path


def long_config(tmp_path, name, method="exact", **output):
    raw = small_config(tmp_path, method=method, name=name, t_final=3.0, **output)
    raw["observables"]["output_dt"] = 0.05      # 61 rows
    return raw


STOP_AT_ROW = """
import os, signal, sys
from tnmbl.runs import cli
row = cli.LogProgress.row
def stop_at(self, r, *, n_rows, total_rows):
    row(self, r, n_rows=n_rows, total_rows=total_rows)
    if n_rows == {n}:
        os.kill(os.getpid(), signal.SIGSTOP)
cli.LogProgress.row = stop_at
sys.argv = ["tnmbl"] + {args!r}
sys.exit(cli.main())
"""


class StoppedRun:
    """``tnmbl ARGS --log`` in a subprocess that stops itself (SIGSTOP) right after writing row ``n``;
    the constructor returns once it is stopped. Its output goes to files (a stopped process must not
    wait on a full pipe). :meth:`finish` continues it and returns ``(returncode, stdout, stderr)``."""

    def __init__(self, tmp_path, n, *args):
        self.out, self.err = tmp_path / f"stopped{n}.out", tmp_path / f"stopped{n}.err"
        with open(self.out, "w") as out, open(self.err, "w") as err:
            self.proc = subprocess.Popen([sys.executable, "-c", STOP_AT_ROW.format(n=n, args=[*map(str, args),
                                          "--log"])], stdout=out, stderr=err, env=ENV)
        _, status = os.waitpid(self.proc.pid, os.WUNTRACED)
        if not os.WIFSTOPPED(status):
            self.proc.returncode = os.waitstatus_to_exitcode(status)
            raise AssertionError(f"the run ended before row {n}: {self.err.read_text()}")
        self.pid = self.proc.pid

    def signal(self, sig):
        self.proc.send_signal(sig)

    def finish(self):
        self.proc.send_signal(signal.SIGCONT)
        self.proc.wait(timeout=300)
        return self.proc.returncode, self.out.read_text(), self.err.read_text()


# ---------------------------------------------------------------- 1. output paths

def _bypass(raw, name):
    """``raw`` as a RunConfig without the output checks of validation (the runner must still refuse it)."""
    clean = copy.deepcopy(raw)
    clean["output"].pop("checkpoint_path")
    cfg = validate_config(clean, name=name)
    return cfg.model_copy(update={"output": cfg.output.model_copy(update={"checkpoint_path":
                                                                        raw["output"]["checkpoint_path"]})})


def test_checkpoint_path_equal_to_results_path_is_refused_before_anything_is_created(tmp_path):
    raw = small_config(tmp_path, name="r")
    raw["output"]["checkpoint_path"] = raw["output"]["path"]
    with pytest.raises(ConfigError) as info:  # validation reports it (tnmbl validate) ...
        validate_config(raw, name="r")
    assert "output.checkpoint_path" in info.value.keys
    cfg = _bypass(raw, "r")  # ... and the runner refuses it too (a config not validated by this tree)
    with pytest.raises(ConfigError) as info:
        runner.run(cfg)
    assert "output.checkpoint_path" in info.value.keys and "results file" in str(info.value)
    assert not (tmp_path / "r.h5").exists()        # before: "finished, 7 rows", then the file was a checkpoint


def test_checkpoint_path_on_an_earlier_run_is_refused_and_the_earlier_run_intact(tmp_path):
    earlier = reference(tmp_path, name="earlier")
    before = read_results(earlier)
    raw = small_config(tmp_path, name="later")
    raw["output"]["checkpoint_path"] = str(earlier)
    with pytest.raises(ConfigError, match="tnmbl results file") as info:
        validate_config(raw, name="later")
    assert info.value.keys == ["output.checkpoint_path"]
    with pytest.raises(ConfigError, match="tnmbl results file") as info:
        runner.run(_bypass(raw, "later"))
    assert info.value.keys == ["output.checkpoint_path"]
    after = read_results(earlier)
    assert after["n_rows"] == before["n_rows"] == 7 and after["attrs"]["status"] == "finished"
    assert not (tmp_path / "later.h5").exists()


@pytest.mark.parametrize("key", ["checkpoint_path", "path"])
def test_the_config_file_is_never_replaced(tmp_path, capsys, key):
    raw = small_config(tmp_path, name="c", overwrite=True)
    cfg_path = tmp_path / "cfg.yaml"
    raw["output"][key] = str(cfg_path)
    cfg_path = write_config(tmp_path, raw)
    text = cfg_path.read_text()
    assert main(["run", str(cfg_path), "--log"]) == 2
    err = capsys.readouterr().err
    assert f"output.{key}" in err and "cfg.yaml" in err
    assert cfg_path.read_text() == text
    assert not (tmp_path / "c.h5").exists()


def test_output_path_problems_are_problem_objects(tmp_path):
    from tnmbl.errors import Problem
    from tnmbl.runs.paths import output_path_problems

    cfg_path = write_config(tmp_path, small_config(tmp_path))
    r = str(tmp_path / "r.h5")
    assert output_path_problems({"path": r}, cfg_path) == []
    probs = output_path_problems({"path": r, "checkpoint_path": r}, cfg_path)
    probs += output_path_problems({"path": str(cfg_path), "overwrite": True}, cfg_path)
    probs += output_path_problems({"path": r, "checkpoint_path": str(cfg_path)}, cfg_path)
    assert [p.key for p in probs] == ["output.checkpoint_path", "output.path", "output.checkpoint_path"]
    for p in probs:
        assert isinstance(p, Problem) and p.rule and p.fix and p.value is not None
    (tmp_path / "notes.txt").write_text("mine")    # a file that is not tnmbl's, without the config path known
    probs = output_path_problems({"path": r, "checkpoint_path": str(tmp_path / "notes.txt")})
    assert [p.key for p in probs] == ["output.checkpoint_path"] and "not HDF5" in probs[0]


# ---------------------------------------------------------------- 2. one writer per results file

def test_a_held_lock_refuses_run_overwrite_and_resume_and_touches_nothing(tmp_path):
    from tnmbl.runs.locks import RunBusyError, RunLock, running_holder

    cfg = validate_config(small_config(tmp_path, name="busy", overwrite=True), name="busy")
    runner.run(cfg)
    stat = os.stat(cfg.results_path)
    data = cfg.results_path.read_bytes()
    assert running_holder(cfg.results_path) is None
    with RunLock(cfg.results_path, "run"):          # another run holds it (flock is per open file)
        assert running_holder(cfg.results_path)["pid"] == os.getpid()
        for attempt in (lambda: runner.run(cfg), lambda: runner.resume(cfg.results_path, t_final=1.0)):
            with pytest.raises(RunBusyError, match=f"pid {os.getpid()}") as info:
                attempt()
            assert str(cfg.results_path) in str(info.value) and info.value.holder["pid"] == os.getpid()
    assert cfg.results_path.read_bytes() == data and os.stat(cfg.results_path).st_mtime_ns == stat.st_mtime_ns
    assert not (tmp_path / "busy.h5.lock").exists()  # released and removed


def test_second_run_and_overwrite_against_a_running_run_are_refused(tmp_path):
    """One writer per results file: two `tnmbl run` of one config, and `--set output.overwrite=true` while the first
    writes. The first run stops itself (SIGSTOP) after row 3 while the second is tried, so it is surely
    running."""
    raw = long_config(tmp_path, "shared")
    cfg_path = write_config(tmp_path, raw)
    proc = StoppedRun(tmp_path, 3, "run", cfg_path)
    try:
        data = (tmp_path / "shared.h5").read_bytes()
        for extra in ([], ["--set", "output.overwrite=true"]):
            out = subprocess.run(cli("run", str(cfg_path), "--log", *extra), capture_output=True, text=True,
                                 env=ENV, timeout=300)
            assert out.returncode != 0, out.stdout
            assert f"being written by the run pid {proc.pid}" in out.stderr, out.stderr
            assert str(tmp_path / "shared.h5") in out.stderr
            assert (tmp_path / "shared.h5").read_bytes() == data   # touched nothing
    finally:
        returncode, stdout, _ = proc.finish()
    assert returncode == 0 and "finished, 61 rows" in stdout
    ref = validate_config(long_config(tmp_path, "straight"), name="straight")
    runner.run(ref)
    assert read_results(tmp_path / "shared.h5")["attrs"]["status"] == "finished"
    assert_same_rows(tmp_path / "shared.h5", ref.results_path, tol=1e-12)


# ---------------------------------------------------------------- 3. full disk and I/O errors

class DiskFull:
    """Injected ENOSPC: from the ``at``-th write (a space reservation or a plain write of the run
    machinery) on, every write fails, until the run releases its spare space (which frees it).
    ``points`` records each call as ``(kind, file)``."""

    def __init__(self, monkeypatch, at=None):
        from tnmbl.runs import diskio
        from tnmbl.runs.locks import RunLock

        self.at, self.calls, self.full, self.points = at, 0, False, []
        fallocate, write_all, spare = diskio._fallocate, diskio.write_all, RunLock.release_spare

        def guard(fn, kind):
            def wrapped(fd, *a, **k):
                self.calls += 1
                self.points.append((kind, os.path.basename(os.readlink(f"/proc/self/fd/{fd}"))))
                if self.at is not None and self.calls == self.at:
                    self.full = True
                if self.full:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                return fn(fd, *a, **k)
            return wrapped

        def release(lock):
            spare(lock)
            self.full = False

        monkeypatch.setattr(diskio, "_fallocate", guard(fallocate, "reserve"))
        monkeypatch.setattr(diskio, "write_all", guard(write_all, "write"))
        monkeypatch.setattr(RunLock, "release_spare", release)


def write_points(points, every):
    """1-based call numbers to inject at: every reservation; of each run of plain writes to one file
    (the lock's identity, one checkpoint), every write if ``every``, else the first, middle and last."""
    chosen, i = [], 0
    while i < len(points):
        j = i
        while j + 1 < len(points) and points[j + 1] == points[i] and points[i][0] == "write":
            j += 1
        chosen += list(range(i, j + 1)) if every or j - i < 3 else [i, (i + j) // 2, j]
        i = j + 1
    return [c + 1 for c in chosen]


@pytest.mark.parametrize("every", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_disk_full_at_every_write_point_keeps_every_committed_row_and_resumes(tmp_path, monkeypatch, every):
    """Full disk, injected: ENOSPC at each write point in turn (the lock's spare space and identity,
    the results file's creation, each row's reservation, each attribute update, the writes of each
    checkpoint: all of them, or first / middle / last of each file's writes in the default suite).
    Every time: an error naming the file and the cause, a readable file with the committed rows, status
    failed, and resume finishes it equal to the undisturbed run."""
    from tnmbl.runs.diskio import RunFileError

    ref = read_results(reference(tmp_path, t_final=0.3))
    counter = DiskFull(monkeypatch)
    cfg = validate_config(small_config(tmp_path, name="count", t_final=0.3), name="count")
    runner.run(cfg)
    kinds = {k for k, _ in counter.points}
    files = {f for _, f in counter.points}
    assert kinds == {"reserve", "write"} and {"count.h5", "count.h5.lock", "count.h5.ckpt.tmp"} <= files
    outcomes = set()
    for at in write_points(counter.points, every):
        name = f"full{at}"
        cfg = validate_config(small_config(tmp_path, name=name, t_final=0.3), name=name)
        inject = DiskFull(monkeypatch, at=at)
        with pytest.raises(RunFileError) as info:
            runner.run(cfg)
        msg = str(info.value)
        assert "No space left on device" in msg and (str(cfg.results_path) in msg or
                                                     str(cfg.checkpoint_path) in msg), msg
        inject.at, inject.full = None, False          # space freed
        if cfg.results_path.exists():
            part = read_results(cfg.results_path)     # readable, every committed row
            n = part["n_rows"]
            assert part["attrs"]["status"] == "failed" and "No space" in part["attrs"]["error"], (at, part["attrs"])
            np.testing.assert_array_equal(part["step"], ref["step"][:n])
            for k in ref["observables"]:
                np.testing.assert_array_equal(part["observables"][k], ref["observables"][k][:n])
            assert f"the {n} committed rows are intact" in msg and f"tnmbl resume {cfg.results_path}" in msg
            outcomes.add(("rows", n))
            summary = runner.resume(cfg.results_path)
        else:                                          # failed before the file existed: nothing to keep
            assert "run again" in msg
            outcomes.add(("nothing", 0))
            summary = runner.run(cfg)
        assert summary.status == "finished"
        assert_same_rows(cfg.results_path, tmp_path / "ref.h5", tol=0.0)
    assert {n for kind, n in outcomes if kind == "rows"} >= {0, 1, 2, 3, 4}   # every row boundary was hit
    assert ("nothing", 0) in outcomes


def tmpfs(path, size="2m"):
    path.mkdir()
    out = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True,
                         text=True)
    if out.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root and mount permission): {out.stderr.strip()}")


def fill(path):
    """Write zeros to ``path`` until the file system is full."""
    block = b"\0" * 65536
    with open(path, "wb", buffering=0) as fh:
        try:
            while True:
                fh.write(block)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
        try:
            while True:
                fh.write(b"\0" * 512)
        except OSError:
            pass


def test_disk_full_on_a_real_small_tmpfs(tmp_path):
    """Full disk, for real: a run on a 2 MB tmpfs stops itself (SIGSTOP) after row 60, the disk is
    filled, the run continued (the old code then hit ENOSPC inside HDF5 at the next chunk, row 64:
    RuntimeErrors and a file HDF5 could not open, "addr overflow"). It stops with exit 1 (no segfault)
    naming the file and ENOSPC; the file is readable with its rows and status failed; after the space
    is freed, resume finishes it equal to the undisturbed run."""
    disk = tmp_path / "disk"
    tmpfs(disk)
    try:
        raw = long_config(disk, "full")
        raw["evolution"]["t_final"] = 3.5               # 71 rows: the row datasets' second chunk starts at 64
        cfg_path = write_config(tmp_path, raw)
        proc = StoppedRun(tmp_path, 60, "run", cfg_path)
        try:
            fill(disk / "filler")
        finally:
            returncode, _, err = proc.finish()
        assert returncode == 1, (returncode, err[-2000:])
        assert "No space left on device" in err and str(disk / "full.h5") in err
        part = read_results(disk / "full.h5")
        assert part["n_rows"] >= 60 and part["attrs"]["status"] == "failed"   # rows that fit the reserve: kept
        np.testing.assert_array_equal(part["step"], np.arange(part["n_rows"]))
        (disk / "filler").unlink()
        out = subprocess.run(cli("resume", str(disk / "full.h5"), "--log"), capture_output=True, text=True,
                             env=ENV, timeout=300)
        assert out.returncode == 0, out.stderr
        ref_raw = long_config(tmp_path, "straight")
        ref_raw["evolution"]["t_final"] = 3.5
        ref = validate_config(ref_raw, name="straight")
        runner.run(ref)
        assert_same_rows(disk / "full.h5", ref.results_path, tol=1e-12)
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def test_a_failed_checkpoint_write_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    from tnmbl.runs.checkpoint import read_checkpoint, write_checkpoint
    from tnmbl.runs.diskio import RunIOError

    path = tmp_path / "c.ckpt"
    write_checkpoint(path, {"step": 1, "psi": np.arange(3.0)})
    DiskFull(monkeypatch, at=3)
    with pytest.raises(RunIOError, match="c.ckpt: writing the checkpoint failed .No space left on device"):
        write_checkpoint(path, {"step": 2, "psi": np.arange(1e5)})
    assert read_checkpoint(path)["step"] == 1 and not (tmp_path / "c.ckpt.tmp").exists()


# ---------------------------------------------------------------- 4. YAML

def test_duplicate_keys_are_errors_naming_the_key_and_both_lines(tmp_path):
    raw = small_config(tmp_path)
    text = yaml.safe_dump(raw, sort_keys=False)
    text = text.replace("  L: 6\n", "  L: 6\n  L: 12\n") + "evolution:\n  method: tebd2\n"
    path = tmp_path / "dup.yaml"
    path.write_text(text)
    lines = text.splitlines()
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.keys == ["model.L", "evolution"]
    first, second = lines.index("  L: 6") + 1, lines.index("  L: 12") + 1
    assert f"line {first} and again on line {second} of {path}" in info.value.problems[0]
    assert f"on line {lines.index('evolution:') + 1} and again on line {len(lines) - 1}" in info.value.problems[1]


def test_alias_expansion_is_bounded_and_refused_before_it_is_built(tmp_path):
    raw = small_config(tmp_path)
    text = yaml.safe_dump(raw, sort_keys=False)
    bomb = 'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    for prev, cur in zip("abcdefg", "bcdefgh"):
        bomb += f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 9) + "]\n"
    text = text.replace("description: test run\n", "description:\n  " + bomb.replace("\n", "\n  ").rstrip() + "\n")
    path = tmp_path / "bomb.yaml"
    path.write_text(text)
    assert len(text) < 1500                        # 9**8 = 43 million strings once expanded
    tracemalloc.start()
    try:
        with pytest.raises(ConfigError, match="aliases .* expand") as info:
            load_config(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20e6, peak
    assert len(str(info.value)) < 1000


@st.composite
def hostile_yaml(draw):
    """A config text with a nest of aliases (``width ** depth`` once expanded), perhaps a duplicate
    key, deep brackets or junk characters spliced in."""
    text = yaml.safe_dump(small_config(Path("/nonexistent")), sort_keys=False)
    depth, width = draw(st.integers(1, 9)), draw(st.integers(1, 12))
    nest = '  a0: &a0 ["lol", 1, 2.5e300, .nan]\n'
    for i in range(1, depth + 1):
        nest += f"  a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]\n"
    text = text.replace("description: test run\n", "description:\n" + nest)
    extra = draw(st.sampled_from(["", "seed: 3\n", "model: {L: 4}\n", "[" * 3000 + "]" * 3000 + "\n",
                                  "x: <<\n", "<<: *a0\n", "y: !!python/object:os.system x\n"]))
    junk = draw(st.text(max_size=20))
    where = draw(st.integers(0, len(text)))
    return text + extra if draw(st.booleans()) else text[:where] + junk + text[where:], width ** depth


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_yaml())
def test_fuzz_hostile_yaml_gives_data_or_a_config_error_in_bounded_memory(case):
    from tnmbl.runs.yamlio import MAX_ALIAS_GROWTH, load_yaml

    text, expanded = case
    tracemalloc.start()
    try:
        try:
            load_yaml(text, "fuzz.yaml")
            refused = None
        except ConfigError as exc:
            refused = exc
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50e6, peak
    if expanded > 2 * MAX_ALIAS_GROWTH and refused is None:
        pytest.fail(f"an alias nest of {expanded} nodes was built")
    if refused is not None:
        assert len(str(refused)) < 2000


# ---------------------------------------------------------------- 6. resume (early, interrupted or damaged checkpoints)

def test_first_checkpoint_right_after_the_first_row(tmp_path):
    cfg = validate_config(small_config(tmp_path, name="first"), name="first")   # checkpoint_every_s: 300
    with pytest.raises(KeyboardInterrupt):
        runner.run(cfg, progress=StopAfter(3))
    assert info_dict(cfg.results_path)["checkpoint"]["rows"] == 1
    summary = runner.resume(cfg.results_path)
    assert summary.rows_recomputed == 2 and summary.status == "finished"


def test_kill_during_the_first_checkpoint_write_leaves_a_resumable_run(tmp_path):
    """SIGKILL inside the first checkpoint write (after its temp file, before the rename)."""
    raw = small_config(tmp_path, name="k1")
    cfg_path = write_config(tmp_path, raw)
    script = ("import os, signal, sys\n"
              "import tnmbl.runs.checkpoint as c\n"
              "c.os.replace = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)\n"
              "from tnmbl.runs.cli import main\n"
              f"sys.exit(main(['run', {str(cfg_path)!r}, '--log']))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=ENV, timeout=300)
    assert out.returncode == -signal.SIGKILL, out.stderr
    part = read_results(tmp_path / "k1.h5")
    assert part["attrs"]["status"] == "running" and part["n_rows"] >= 1
    assert not (tmp_path / "k1.h5.ckpt").exists()
    assert main(["resume", str(tmp_path / "k1.h5"), "--log"]) == 0
    assert_same_rows(tmp_path / "k1.h5", reference(tmp_path), tol=0.0)


def test_info_works_beside_a_truncated_checkpoint_and_resume_continues(tmp_path, capsys):
    cfg = validate_config(small_config(tmp_path, name="tc", checkpoint_every_outputs=2), name="tc")
    with pytest.raises(KeyboardInterrupt):
        runner.run(cfg, progress=StopAfter(5))
    ckpt = cfg.checkpoint_path
    data = ckpt.read_bytes()
    ckpt.write_bytes(data[: len(data) // 2])
    assert main(["info", str(cfg.results_path)]) == 0
    out = capsys.readouterr().out
    assert "progress:   5 rows" in out and "checkpoint:" in out
    assert "truncated" in info_dict(cfg.results_path)["checkpoint"]["unusable"]
    summary = runner.resume(cfg.results_path)
    assert summary.status == "finished" and summary.rows_recomputed == 5
    assert "unusable" in summary.messages[0] and str(ckpt) in summary.messages[0]
    assert_same_rows(cfg.results_path, reference(tmp_path), tol=0.0)


@pytest.mark.parametrize("damage", ["text", "truncated", "corrupt"])
@pytest.mark.parametrize("command", ["info", "resume"])
def test_damaged_inputs_give_errors_naming_the_file_and_what_was_expected(tmp_path, capsys, damage, command):
    path = tmp_path / "bad.h5"
    if damage == "text":
        path.write_text("model:\n  name: xxz\n")
    else:
        good = reference(tmp_path, name="good")
        data = bytearray(good.read_bytes())
        if damage == "truncated":
            data = data[: len(data) // 2]
        else:
            data[0:8] = b"\0" * 8                  # the superblock signature
        path.write_bytes(bytes(data))
    assert main([command, str(path)]) == 1
    err = capsys.readouterr().err
    assert str(path) in err and "expected a tnmbl results file" in err, err
    assert {"text": "not an HDF5 file", "truncated": "truncated", "corrupt": "not an HDF5 file"}[damage] in err


# ---------------------------------------------------------------- signals

@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_writes_a_checkpoint_and_prints_the_real_resume_command(tmp_path, sig):
    raw = long_config(tmp_path, "sig")                 # checkpoints: after row 1, then every 300 s
    cfg_path = write_config(tmp_path, raw)
    proc = StoppedRun(tmp_path, 5, "run", cfg_path)
    try:
        proc.signal(sig)                               # pending until the run continues
    finally:
        returncode, _, err = proc.finish()
    assert returncode == 130, err
    results = tmp_path / "sig.h5"
    assert f"tnmbl resume {results}`" in err
    part = info_dict(results)
    assert part["status"] == "interrupted" and part["rows"] == 5
    assert part["checkpoint"]["rows"] == 5              # written at the stop, not only after row 1
    out = subprocess.run(cli("resume", str(results), "--log"), capture_output=True, text=True, env=ENV, timeout=300)
    assert out.returncode == 0, out.stderr
    ref = validate_config(long_config(tmp_path, "straight"), name="straight")
    runner.run(ref)
    assert_same_rows(results, ref.results_path, tol=1e-12)
    with h5py.File(results, "r") as f:
        assert f.attrs["status"] == "finished"


def test_results_for_update_takes_the_lock_and_reserves_first(tmp_path, monkeypatch):
    """The way for code outside a run (the error budget) to change a results file."""
    from tnmbl.runs.diskio import RunFileError
    from tnmbl.runs.locks import RunBusyError, RunLock
    from tnmbl.runs.storage import results_for_update

    path = reference(tmp_path)
    with results_for_update(path) as f:
        f.attrs["note"] = "kept"
    assert read_results(path)["attrs"]["note"] == "kept"
    with RunLock(path), pytest.raises(RunBusyError):
        with results_for_update(path) as f:
            f.attrs["note"] = "lost"
    DiskFull(monkeypatch, at=3)                    # the lock's identity, its spare space, then the update's
    with pytest.raises(RunFileError, match="updating the file needs space .*No space left"):
        with results_for_update(path, 10_000) as f:
            f.attrs["note"] = "lost"
    assert read_results(path)["attrs"]["note"] == "kept"
