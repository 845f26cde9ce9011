"""File-system helpers: the user data directory and the ONE durable-write path.

Every file PlanAtlas writes (exports, reports, site lists, screenshots, map pages, imported plans,
caches) goes through :func:`durable_path` (or its shorthands :func:`durable_write_bytes`,
:func:`durable_open`):

1. a temporary file is created **in the target folder** (``.NAME.XXXXXXXX.part.SUFFIX``) with a
   ``.lock`` file beside it that the writing process holds an ``flock`` on;
2. the writer fills the temporary file; its status is checked (Python writers raise, Qt and GDAL
   writers are checked by the caller and then by :mod:`planatlas.layers.filecheck`, which
   verifies the finished file's structure — a PDF's cross-reference table, PNG chunk CRCs, XML
   well-formedness, ZIP member CRCs, SQLite ``quick_check``);
3. the file is ``fsync``'ed, given the user's umask (``0666 & ~umask``, like any other program's
   output, not ``mkstemp``'s 0600), moved over the target with ``os.replace`` and the folder is
   ``fsync``'ed.

On any failure the temporary file is removed, the previous file is untouched and an
:class:`~planatlas.layers.errors.OperationError` says what could not be written and why (one
line; the CLI exits 1). A run that is killed (``kill -9``, power loss) leaves at most a temporary
file and its lock; the next write into that folder removes leftovers whose lock is no longer held
(their writer is dead), together with SQLite's ``-journal``/``-wal``/``-shm`` side files.
"""
from __future__ import annotations

import errno
import os
import re
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Callable, Iterator

from .errors import OperationError, WriteFailed
from .filecheck import check_output

try:   # POSIX advisory locks tell a dead writer's leftovers from a running writer's files
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

__all__ = [
    "user_data_dir", "user_umask", "durable_path", "durable_write_bytes", "durable_write_text",
    "durable_open", "DurableTemp", "clean_leftovers", "atomic_write_bytes", "atomic_write_text",
    "write_error", "WriteFailed", "ensure_folder",
]

PART = ".part"
LOCK = ".lock"
SIDE_FILES = ("-journal", "-wal", "-shm")
# ".NAME.XXXXXXXX.part[.SUFFIX]" (+ side file or lock); XXXXXXXX is mkstemp's random part
_TEMP_RE = re.compile(r"^\.(?P<name>.+)\.(?P<rand>[a-z0-9_]{8})\.part(?P<suffix>\.(?!lock$)[^./\\]{1,16}?)?"
                      r"(?P<side>-journal|-wal|-shm|\.lock)?$")
_UNLOCKED_AGE_S = 3600       # a temporary file with no lock file (older releases) is removed after 1 h


def user_data_dir() -> Path:
    """Where user data lives (imported plans, the user's gazetteer layer, caches).

    ``PLANATLAS_DATA_DIR`` overrides the platform default (used by tests and portable installs).
    Never inside the installed package.
    """
    env = os.environ.get("PLANATLAS_DATA_DIR")
    if env:
        path = Path(env)
    else:
        from platformdirs import user_data_dir as _udd
        path = Path(_udd("planatlas", appauthor=False))
    return path


_UMASK: int | None = None


def user_umask() -> int:
    """The process umask, read without changing it (``os.umask`` is not thread-safe to probe)."""
    global _UMASK
    if _UMASK is None:
        try:
            with open("/proc/self/status", encoding="ascii", errors="replace") as fh:
                for line in fh:
                    if line.startswith("Umask:"):
                        _UMASK = int(line.split()[1], 8)
                        break
        except (OSError, ValueError, IndexError):
            pass
        if _UMASK is None:   # not Linux: probe once (first call happens on the main thread)
            _UMASK = os.umask(0o022)
            os.umask(_UMASK)
    return _UMASK


def write_error(out: str | os.PathLike, exc: BaseException) -> OperationError:
    """The one-line error for a file that could not be written."""
    if isinstance(exc, OSError):
        reason = exc.strerror or str(exc) or type(exc).__name__
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            reason = "no space left on device"
        elif exc.errno == errno.EFBIG:
            reason = "file too large for this file system or quota (disk full?)"
        elif exc.errno == errno.EROFS:
            reason = "the folder is on a read-only file system"
        elif exc.errno in (errno.EACCES, errno.EPERM):
            reason = "permission denied (the folder is read-only?)"
    else:
        reason = " ".join(str(exc).split()) or type(exc).__name__
    return OperationError(f"cannot write {out}: {reason}; any previous file is unchanged")


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:   # some file systems cannot fsync folders; the rename is still atomic
        pass
    finally:
        os.close(fd)


def _lock_is_free(lock: Path) -> bool:
    """True when no process holds the lock (its writer died); False while a writer runs."""
    if fcntl is None:  # pragma: no cover
        return time.time() - lock.stat().st_mtime > _UNLOCKED_AGE_S
    try:
        fd = os.open(lock, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    finally:
        os.close(fd)     # closing releases our probe lock
    return True


def clean_leftovers(folder: str | os.PathLike) -> list[Path]:
    """Remove temporary files that killed PlanAtlas runs left in ``folder``; returns them.

    A temporary file is removed only when its lock file exists and is not held (the writer is
    dead), or — files of older releases, which had no lock — when it is over an hour old.
    Files that merely look similar but do not match the exact temporary naming are never touched.
    """
    folder = Path(folder)
    removed: list[Path] = []
    try:
        entries = [e.name for e in os.scandir(folder) if e.name.startswith(".") and PART in e.name]
    except OSError:
        return removed
    names = set(entries)
    done: set[str] = set()
    for name in entries:
        m = _TEMP_RE.match(name)
        if not m:
            continue
        base = name[: len(name) - len(m.group("side") or "")]
        if base in done:
            continue
        done.add(base)
        lock = folder / (base + LOCK)
        try:
            if base + LOCK in names:
                dead = _lock_is_free(lock)
            else:
                newest = max((folder / n).stat().st_mtime for n in
                             (base, *(base + s for s in SIDE_FILES)) if n in names)
                dead = time.time() - newest > _UNLOCKED_AGE_S
        except OSError:
            continue
        if not dead:
            continue
        for n in (base, *(base + s for s in SIDE_FILES), base + LOCK):
            if n in names:
                try:
                    (folder / n).unlink()
                    removed.append(folder / n)
                except OSError:
                    pass
    return removed


class DurableTemp:
    """A locked temporary file beside ``out``; :meth:`commit` moves it over ``out`` durably.

    ``create=False`` removes the (reserved, locked) temporary file before the writer runs, for
    writers such as GDAL that refuse to write into an existing file.
    """

    def __init__(self, out: str | os.PathLike, *, create: bool = True):
        self.out = Path(out)
        folder = self.out.parent if str(self.out.parent) else Path(".")
        self.folder = folder
        self._lock_fd: int | None = None
        clean_leftovers(folder)
        suffix = self.out.suffix if re.fullmatch(r"\.[^./\\]{1,16}", self.out.suffix or "") else ""
        try:
            # (the name is cut to 100 bytes so that the temporary name fits where the target's fits)
            short = self.out.name.encode("utf-8", "surrogateescape")[:100].decode("utf-8", "ignore")
            fd, name = tempfile.mkstemp(prefix=f".{short}.", suffix=PART + suffix, dir=folder)
        except OSError as exc:
            raise write_error(self.out, exc) from None
        os.close(fd)
        self.path = Path(name)
        self.lock = self.path.with_name(self.path.name + LOCK)
        try:
            lfd = os.open(self.lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            if fcntl is not None:
                fcntl.flock(lfd, fcntl.LOCK_EX)
            self._lock_fd = lfd
        except OSError as exc:
            self.discard()
            raise write_error(self.out, exc) from None
        if not create:
            _unlink(self.path)

    def commit(self, verify: str | Callable[[Path], None] | None = "auto",
               mode: int | None = None) -> Path:
        """Check, fsync, chmod and move the temporary file over the target; release the lock.

        ``mode`` overrides the permissions (default ``0666 & ~umask``)."""
        try:
            if not self.path.exists():
                raise WriteFailed("the writer produced no file")
            if verify == "auto":
                check_output(self.path, self.out.suffix)
            elif callable(verify):
                verify(self.path)
            fd = os.open(self.path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            os.chmod(self.path, (0o666 & ~user_umask()) if mode is None else mode)
            os.replace(self.path, self.out)
        except (OSError, WriteFailed) as exc:
            self.discard()
            raise write_error(self.out, exc) from None
        except BaseException:
            self.discard()
            raise
        _fsync_dir(self.folder)
        self._release()
        return self.out

    def discard(self) -> None:
        """Remove the temporary file, its SQLite side files and the lock (idempotent)."""
        for p in (self.path, *(self.path.with_name(self.path.name + s) for s in SIDE_FILES)):
            try:
                _unlink(p)
            except OSError:
                pass
        self._release()

    def _release(self) -> None:
        try:
            _unlink(self.lock)
        except OSError:
            pass
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


@contextmanager
def durable_path(out: str | os.PathLike, *, create: bool = True,
                 verify: str | Callable[[Path], None] | None = "auto",
                 mode: int | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``out``; when the block ends without error, verify the file
    (``"auto"``: by the target's suffix, see :func:`planatlas.layers.filecheck.check_output`),
    fsync it and move it over ``out``. On any exception nothing is left behind and ``out`` is
    untouched; ``OSError``s become :class:`OperationError`."""
    tmp = DurableTemp(out, create=create)
    try:
        yield tmp.path
    except BaseException as exc:
        tmp.discard()
        if isinstance(exc, (OSError, WriteFailed)):
            raise write_error(out, exc) from None
        raise
    tmp.commit(verify, mode)


def durable_write_bytes(out: str | os.PathLike, data: bytes, *,
                        verify: str | Callable[[Path], None] | None = "auto",
                        mode: int | None = None) -> Path:
    """Write ``data`` to ``out`` durably (see the module docstring); returns the path."""
    out = Path(out)
    with durable_path(out, verify=verify, mode=mode) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
    return out


def durable_write_text(out: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    return durable_write_bytes(out, text.encode(encoding))


@contextmanager
def durable_open(out: str | os.PathLike, mode: str = "w", *, encoding: str | None = None,
                 newline: str | None = None,
                 verify: str | Callable[[Path], None] | None = "auto") -> Iterator[IO]:
    """``open()`` for writing, durably: the file appears at ``out`` only if the block succeeds."""
    if "r" in mode or "a" in mode or "+" in mode:
        raise ValueError(f"durable_open writes new files; mode {mode!r} is not supported")
    with durable_path(out, verify=verify) as tmp:
        with open(tmp, mode, encoding=encoding, newline=newline) as fh:
            yield fh


def ensure_folder(out: str | os.PathLike) -> Path:
    """Create the folder ``out`` will be written into (an OperationError if that fails)."""
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_error(out, exc) from None
    return out


def atomic_write_bytes(path: str | os.PathLike, data: bytes, mode: int | None = None) -> None:
    """Durable write of ``data``, creating the folder (the older name; ``mode`` overrides the
    umask-derived permissions, e.g. 0644 for shipped data files)."""
    path = ensure_folder(path)
    durable_write_bytes(path, data, verify=None, mode=mode)


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8",
                      mode: int | None = None) -> None:
    atomic_write_bytes(path, text.encode(encoding), mode)
