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


def atomic_write_bytes(path: str | os.PathLike, data: bytes, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` so that a crash leaves either the old or the new file, never half.

    ``mode`` sets the permissions (mkstemp creates 0600; shipped data files want 0644)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8",
                      mode: int | None = None) -> None:
    atomic_write_bytes(path, text.encode(encoding), mode)
