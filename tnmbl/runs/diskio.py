"""Disk I/O of runs that survives a full disk and names the file on every error.

Mechanism (no result lost): HDF5 must never see a failed write of the results
file. A failed write in the middle of an HDF5 flush leaves half-written metadata (a file
whose superblock promises more bytes than exist is unreadable as a whole: "truncated file"),
and the library's state after such an error is not something to keep writing through (a
checkpoint write that hit ENOSPC ended in RuntimeErrors and a segfault). So:

* **Results file: space reserved ahead.** Before each row (and each attribute update) the
  runner calls :func:`reserve` for the bytes that row can need at most (a new chunk of every
  row dataset plus metadata slack) past HDF5's end of allocation, with ``posix_fallocate``:
  the blocks belong to the file before HDF5 writes into them, so the row's writes cannot
  fail for space. If the reservation fails, nothing of the row has been written; the file
  is exactly as after the last flush (every committed row readable) and the run stops with
  an error naming the file and the cause. Unused reserved bytes past HDF5's end are cut off
  when the file is closed (:func:`trim`).
* **A spare reserve for the last word**: the lock file of the run holds :data:`SPARE_BYTES`
  of allocated space (:class:`tnmbl.runs.locks.RunLock`); when the disk is full it is released
  so that ``status = failed`` and the error can still be written into the results file.
* **Checkpoints** go through :class:`GuardedFile`, a file object given to h5py's ``fileobj``
  driver: the first failed write (ENOSPC, EIO) is remembered and every later write is
  accepted and dropped, so HDF5 finishes and closes normally; the temp file is then deleted
  and the remembered error raised as :class:`RunIOError`. The previous checkpoint stays (the
  new one would have been renamed over it only after an fsync).

Every error is a :class:`RunFileError` (an ``OSError``, so the CLI's handler reports it)
whose message names the file, what was expected or attempted, and the cause.
"""

from __future__ import annotations

import errno
import io
import os
from datetime import datetime, timezone
from pathlib import Path

from ..errors import TnmblError

SPARE_BYTES = 1 << 20
"""Space held in the run's lock file, released to record a failure when the disk is full."""
METADATA_SLACK = 1 << 18
"""Bytes reserved on top of the new chunks of a row, for HDF5 metadata (B-tree nodes, headers, heaps)."""
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


class RunFileError(TnmblError, OSError):
    """A results file, checkpoint or lock could not be read or written; the message names the
    file (``key``), what was expected or attempted (``rule``) and the fix."""

    def __init__(self, message, *, key=None, rule=None, fix=None, cause=None):
        super().__init__(message)
        self.key, self.rule, self.fix, self.value = key, rule, fix, None
        self.cause = cause

    def __str__(self):
        return self.args[0]


class RunIOError(RunFileError):
    """Writing a run's file failed (a full disk, an I/O error); what was committed is intact."""


def describe_os_error(exc):
    """``'No space left on device'`` style text of an OS error (``strerror`` or the message)."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return " ".join(str(exc).split()) or type(exc).__name__


def is_disk_full(exc):
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


def _fallocate(fd, offset, length):
    """``posix_fallocate`` (the one call tests replace to inject ENOSPC at a reservation)."""
    os.posix_fallocate(fd, offset, length)


def reserve(fd, offset, length):
    """Allocate ``[offset, offset + length)`` of the file ``fd`` now; raises ``OSError`` (ENOSPC)."""
    if length <= 0:
        return
    try:
        _fallocate(fd, offset, length)
    except OSError as exc:
        if exc.errno in (errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL) and not is_disk_full(exc):
            return  # a file system without fallocate: nothing reserved, writes go on as before
        raise


def write_all(fd, data):
    """``os.write`` until ``data`` is written (the one call tests replace to inject a failed write)."""
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def fsync(fd):
    os.fsync(fd)


def fsync_dir(path):
    try:  # make a rename durable
        dfd = os.open(Path(path), os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def head(path, n=512):
    """The first ``n`` bytes of ``path`` (``b''`` if it cannot be read)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(n)
    except OSError:
        return b""


def open_h5(path, mode="r", *, expected, **kw):
    """``h5py.File(path, mode)`` with h5py's errors (not HDF5, truncated, corrupt, locked, missing)
    turned into a :class:`RunFileError` naming the file and what was ``expected`` there."""
    import h5py

    path = Path(path)
    if not path.exists():
        raise RunFileError(f"{path}: does not exist (expected {expected})", key=str(path), rule="does not exist")
    if path.is_dir():
        raise RunFileError(f"{path}: is a directory (expected {expected})", key=str(path), rule="is a directory")
    try:
        return h5py.File(path, mode, **kw)
    except OSError as exc:
        raise RunFileError(f"{path}: {_h5_problem(path, exc)} (expected {expected})", key=str(path),
                           rule=_h5_problem(path, exc), cause=exc) from None


def _h5_problem(path, exc):
    text = " ".join(str(exc).split())
    start = head(path, 8)
    if isinstance(exc, PermissionError) or "ermission denied" in text:
        return "cannot be opened (permission denied)"
    if not start:
        return "is empty"
    if not start.startswith(HDF5_SIGNATURE) and b"\x89HDF" not in head(path, 1 << 16):
        return "is not an HDF5 file"
    if "truncated" in text:
        return f"is truncated ({os.path.getsize(path)} bytes; the file was cut short, e.g. by a full disk or a copy)"
    if "lock" in text:
        return "is locked by another process"
    if len(text) > 200:
        text = text[:200] + "..."
    return f"is damaged, HDF5 cannot read it ({text})"


class GuardedFile(io.RawIOBase):
    """A binary file for h5py's ``fileobj`` driver that never reports a failed write to HDF5.

    The first ``OSError`` of a write, truncate or flush is kept in :attr:`error`; from then on
    writes are accepted and dropped, so HDF5 completes and closes normally. The caller checks
    :attr:`error` after closing and discards the file.
    """

    def __init__(self, path):
        self.path = Path(path)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        self.pos = 0
        self.error = None

    def readable(self):
        return True

    def writable(self):
        return True

    def seekable(self):
        return True

    def seek(self, offset, whence=io.SEEK_SET):
        if whence == io.SEEK_SET:
            self.pos = offset
        elif whence == io.SEEK_CUR:
            self.pos += offset
        else:
            self.pos = os.fstat(self.fd).st_size + offset
        return self.pos

    def tell(self):
        return self.pos

    def readinto(self, buf):
        try:
            data = os.pread(self.fd, len(buf), self.pos)
        except OSError as exc:
            self.error = self.error or exc
            data = b""
        n = len(data)
        buf[:n] = data
        if n < len(buf):  # past the end or after a failure: zeros, as HDF5 expects of unwritten space
            buf[n:len(buf)] = bytes(len(buf) - n)
        self.pos += len(buf)
        return len(buf)

    def write(self, data):
        n = len(data)
        if self.error is None:
            try:
                os.lseek(self.fd, self.pos, os.SEEK_SET)
                write_all(self.fd, data)
            except OSError as exc:
                self.error = exc
        self.pos += n
        return n

    def truncate(self, size=None):
        size = self.pos if size is None else size
        if self.error is None:
            try:
                os.ftruncate(self.fd, size)
            except OSError as exc:
                self.error = exc
        return size

    def flush(self):
        pass

    def fsync(self):
        if self.error is None:
            try:
                fsync(self.fd)
            except OSError as exc:
                self.error = exc

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        super().close()


def now():
    """The current UTC time as an ISO string (seconds), for histories and lock holders."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
