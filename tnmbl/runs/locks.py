"""One writer per results file: :class:`RunLock`.

The lock is ``fcntl.flock(LOCK_EX | LOCK_NB)`` on a sidecar file ``<results>.lock``, taken
before the results file or its checkpoint is created, truncated or reopened, and held until
the run, resume or extend ends. Why a sidecar and ``flock``:

* HDF5's own file locking comes too late: opening with mode ``"w"`` truncates the file
  before the lock is tried (measured: a second writer destroyed a running run's file), and it
  is switched off on file systems without locks (``HDF5_USE_FILE_LOCKING=FALSE``).
* A lock on the results file itself cannot exist before that file does, and it would
  collide with HDF5's own ``flock`` on the same file within the process.
* ``flock`` locks are released by the kernel when the process dies, SIGKILL included: a
  killed run never leaves a stale lock, only a stale (harmless) lock file.
* The lock file holds the holder's identity (pid, host, start time, command), shown to the
  refused second writer, and :data:`~tnmbl.runs.diskio.SPARE_BYTES` of allocated space that
  is released to record a failure when the disk fills up (:meth:`RunLock.release_spare`).

Acquisition checks that the locked file is still the one at the path (the previous holder
unlinks it when it releases); the file is unlinked on release, so a finished run leaves no
lock file behind. Network file systems: Linux NFS clients emulate ``flock`` with POSIX byte-range
locks, which the server enforces across machines; the refusal names the host.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
from pathlib import Path

from . import diskio
from .diskio import SPARE_BYTES, RunFileError, describe_os_error, is_disk_full, now, reserve
from .paths import lock_path_of


class RunBusyError(RunFileError):
    """The results file is being written by another run (``holder`` says which)."""

    def __init__(self, message, holder=None, **kw):
        super().__init__(message, **kw)
        self.holder = holder or {}


def describe_holder(holder):
    """The run holding a lock, in words (for refusals and ``tnmbl info``)."""
    if not holder:
        return "a run that is starting (its identity is not written yet)"
    parts = [f"pid {holder.get('pid')}", f"on {holder.get('host')}", f"started {holder.get('started')}"]
    if holder.get("command"):
        parts.append(f"command {holder['command']!r}")
    return "the run " + ", ".join(parts)


def read_holder(results):
    """The identity written in ``<results>.lock`` (``{}`` if none)."""
    try:
        text = Path(lock_path_of(results)).read_bytes().split(b"\0", 1)[0]
        return json.loads(text) if text.strip() else {}
    except (OSError, ValueError):
        return {}


def running_holder(results):
    """The identity of the run writing ``results`` now, or ``None`` if none holds its lock (for
    ``tnmbl info``: "running" vs "killed"). Takes and drops a shared lock; changes nothing."""
    try:
        fd = os.open(lock_path_of(results), os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return read_holder(results) or {"pid": None}
    finally:
        os.close(fd)
    return None


class RunLock:
    """Exclusive lock of a results file: ``with RunLock(path, action="run"): ...``."""

    def __init__(self, results, action="run"):
        self.results = Path(results)
        self.path = lock_path_of(self.results)
        self.action = action
        self.fd = None

    def acquire(self):
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RunFileError(f"{self.path.parent}: the results folder cannot be created "
                               f"({describe_os_error(exc)})", key=str(self.results)) from None
        for _ in range(20):
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise RunFileError(f"{self.path}: the lock file of {self.results} cannot be created "
                                   f"({describe_os_error(exc)})", key=str(self.results), cause=exc) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                holder = read_holder(self.results)
                raise RunBusyError(f"{self.results}: is being written by {describe_holder(holder)}; nothing was "
                                   f"changed. Wait for it to end (tnmbl info {self.results}), or stop it "
                                   f"(kill {holder.get('pid', 'PID')}) and `tnmbl resume {self.results}`; "
                                   "a second writer would corrupt the file", holder=holder,
                                   key=str(self.results), rule="is being written by another run") from None
            try:  # the holder before us may have unlinked the file between our open and our lock
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                self.fd = fd
                break
            os.close(fd)
        else:
            raise RunFileError(f"{self.path}: could not take the lock of {self.results}", key=str(self.results))
        ident = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": now(),
                            "action": self.action, "command": " ".join(sys.argv)[:300]}).encode()
        try:
            os.ftruncate(self.fd, 0)
            diskio.write_all(self.fd, ident + b"\0")
            reserve(self.fd, 4096, SPARE_BYTES)  # the spare space (see tnmbl.runs.diskio)
        except OSError as exc:
            self.release()
            why = "the disk is full" if is_disk_full(exc) else describe_os_error(exc)
            raise RunFileError(f"{self.results}: not started, {why} ({describe_os_error(exc)}, writing "
                               f"{self.path.name}); free some space and run again", key=str(self.results),
                               rule=describe_os_error(exc), cause=exc) from None
        return self

    def release_spare(self):
        """Give the spare space back to the file system (to record a failure on a full disk)."""
        if self.fd is not None:
            try:
                os.ftruncate(self.fd, 4096)
            except OSError:
                pass

    def release(self):
        if self.fd is None:
            return
        try:
            os.unlink(self.path)
        except OSError:
            pass
        os.close(self.fd)  # closing releases the flock
        self.fd = None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
