"""Shared test set-up: headless Qt and throw-away user directories.

Runs before any test module is imported, so before Qt is loaded:

* ``QT_QPA_PLATFORM=offscreen`` (unless the caller chose a platform) — no display needed;
* ``XDG_CONFIG_HOME`` / ``XDG_DATA_HOME`` / ``XDG_CACHE_HOME`` / ``PLANATLAS_DATA_DIR`` point into
  a fresh temporary folder for this test session, so QSettings, platformdirs and the user
  store never read or write the developer's real files (``PLANATLAS_STORE`` is unset).
"""
from __future__ import annotations

import os
import shutil
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

_SESSION_DIR = tempfile.mkdtemp(prefix="planatlas-tests-")
for _var, _sub in (("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"),
                   ("XDG_CACHE_HOME", "cache"), ("PLANATLAS_DATA_DIR", "planatlas-data")):
    _path = os.path.join(_SESSION_DIR, _sub)
    os.makedirs(_path, exist_ok=True)
    os.environ[_var] = _path
os.environ.pop("PLANATLAS_STORE", None)          # never the developer's team store
os.environ.pop("PLANATLAS_CONFIG_DIR", None)

import pytest  # noqa: E402


@pytest.fixture
def datadir(tmp_path, monkeypatch):
    """A fresh, empty PlanAtlas data directory (imported plans, user gazetteer) for one test,
    with the cached atlas forgotten before and after."""
    monkeypatch.setenv("PLANATLAS_DATA_DIR", str(tmp_path / "data"))
    from planatlas.layers import atlas
    atlas._CACHE.clear()
    yield tmp_path / "data"
    atlas._CACHE.clear()


@pytest.fixture(scope="session")
def session_dir() -> str:
    """The temporary folder holding this session's config/data/cache directories."""
    return _SESSION_DIR


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_SESSION_DIR, ignore_errors=True)

