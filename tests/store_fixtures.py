"""Fixtures for the store tests: one throwaway PostGIS cluster per session, and ``backend`` —
the same test run once on the embedded GeoPackage and once on a fresh PostGIS database.

Locally, without PostgreSQL/PostGIS installed, the PostGIS half is skipped with the reason;
under CI (``CI`` set) it fails instead — store tests must not be skipped in CI.
"""
from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

_COUNTER = itertools.count(1)


@pytest.fixture(scope="session")
def pg():
    from pgcluster import Cluster, unavailable_reason

    reason = unavailable_reason()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"PostGIS needed in CI: {reason} (apt-get install postgresql postgis; .ci/run does)")
        pytest.skip(reason)
    cluster = Cluster().start()
    yield cluster
    cluster.stop()


@dataclass
class Backend:
    kind: str
    url: str
    tmp: Path
    pg: object = None

    def open(self, url: str | None = None):
        from planatlas.layers.store import open_store
        return open_store(url or self.url)

    def use(self, url: str) -> None:
        os.environ["PLANATLAS_STORE"] = url
        _reset()


def _reset() -> None:
    from planatlas.layers import atlas as atlas_mod
    from planatlas.layers import store

    store.reset()
    atlas_mod._CACHE.clear()


def new_pg_store(pg, *, editors=(), viewers=()) -> str:
    from planatlas.layers.store.postgis import init_server

    url = pg.new_database(f"store_{os.getpid()}_{next(_COUNTER)}")
    init_server(url, editors=list(editors), viewers=list(viewers))
    return url


@pytest.fixture(params=["gpkg", "postgis"])
def backend(request, tmp_path, monkeypatch):
    monkeypatch.setenv("PLANATLAS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PLANATLAS_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "pgpass"))
    if request.param == "gpkg":
        url = str(tmp_path / "data" / "store.gpkg")
        b = Backend("gpkg", url, tmp_path)
    else:
        cluster = request.getfixturevalue("pg")
        b = Backend("postgis", new_pg_store(cluster), tmp_path, cluster)
    monkeypatch.setenv("PLANATLAS_STORE", b.url)
    _reset()
    yield b
    _reset()


@pytest.fixture()
def data_dir(tmp_path, monkeypatch):
    """The embedded store in a fresh data directory (no PLANATLAS_STORE)."""
    d = tmp_path / "data"
    monkeypatch.setenv("PLANATLAS_DATA_DIR", str(d))
    monkeypatch.setenv("PLANATLAS_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("PLANATLAS_STORE", raising=False)
    _reset()
    yield d
    _reset()
