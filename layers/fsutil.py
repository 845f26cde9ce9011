"""Small file-system helpers: the user data directory and atomic writes."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def user_data_dir() -> Path:
    """Where user data lives (imported plans, the user's gazetteer layer).

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


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a crash leaves either the old or the new file, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> None:
    atomic_write_bytes(path, text.encode(encoding))
