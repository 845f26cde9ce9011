"""Online XYZ tile sources — an explicit opt-in — with a disk cache that keeps working offline.

    src = OnlineXYZSource("https://t{s}.example.cn/tile/{z}/{x}/{y}.png", cache_dir,
                          subdomains="01234567", datum="wgs84", attribution="© 天地图")
    src.fetch(12, 3337, 1778)      # Tile(bytes) from the cache, or Tile(None, "pending")

Nothing here touches the network unless the user added such a source. ``fetch`` never blocks:
a tile in the disk cache is returned at once; otherwise it is queued for a small pool of
background threads (short connect/read timeouts) and ``pending`` is returned; when it arrives
it is written to the cache (atomically) and ``on_tile(z, x, y)`` is called so the map can
repaint. A tile that could not be had is ``missing`` and is not asked for again for
``retry_after`` seconds; after several failures in a row the source counts as offline and only
probes the network once per ``retry_after`` — so a machine with no route starts at once and
draws what is cached, with the missing tiles marked.

The template may use ``{z} {x} {y}``, ``{-y}`` (TMS rows), ``{s}`` (one of ``subdomains``) and
``{q}`` (a Bing-style quadkey).
"""
from __future__ import annotations

import hashlib
import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from planatlas.layers.errors import InputError
from planatlas.layers.fsutil import atomic_write_bytes, user_data_dir

from .base import Tile, TileSource, sniff_format

__all__ = ["OnlineXYZSource", "tile_url", "default_cache_dir", "check_template"]

USER_AGENT = "PlanAtlas/0.1 (offline GIS viewer; tile cache)"
_FIELDS = re.compile(r"\{(-?y|x|z|s|q)\}")


def check_template(url: str) -> str:
    url = str(url or "").strip()
    if not re.match(r"^https?://", url, re.I):
        raise InputError(f"a tile URL must start with http:// or https://, got {url!r}")
    found = set(_FIELDS.findall(url))
    if not ({"x", "z"} <= found and found & {"y", "-y"}) and "q" not in found:
        raise InputError(f"a tile URL needs {{z}}, {{x}} and {{y}} (or {{-y}}, {{q}}), got {url!r}")
    return url


def _quadkey(z: int, x: int, y: int) -> str:
    out = []
    for i in range(z, 0, -1):
        d, mask = 0, 1 << (i - 1)
        if x & mask:
            d += 1
        if y & mask:
            d += 2
        out.append(str(d))
    return "".join(out)


def tile_url(template: str, z: int, x: int, y: int, subdomains: str = "") -> str:
    s = subdomains[(x + y) % len(subdomains)] if subdomains else ""
    values = {"z": str(z), "x": str(x), "y": str(y), "-y": str((1 << z) - 1 - y), "s": s,
              "q": _quadkey(z, x, y)}
    return _FIELDS.sub(lambda m: values[m.group(1)], template)


def default_cache_dir(template: str) -> Path:
    digest = hashlib.sha1(template.encode("utf-8")).hexdigest()[:16]
    return user_data_dir() / "tilecache" / digest


class OnlineXYZSource(TileSource):
    kind = "online"

    def __init__(self, url: str, cache_dir: str | Path | None = None, *, datum: str = "wgs84",
                 attribution: str = "", subdomains: str = "", minzoom: int = 0, maxzoom: int = 18,
                 name: str = "", timeout: float = 4.0, workers: int = 4, retry_after: float = 30.0,
                 offline_after: int = 4):
        self.url = check_template(url)
        self.cache_dir = Path(cache_dir) if cache_dir else default_cache_dir(self.url)
        self.datum = datum
        self.attribution = attribution
        self.subdomains = subdomains
        self.minzoom, self.maxzoom = int(minzoom), int(maxzoom)
        self.name = name or re.sub(r"^https?://", "", self.url).split("/")[0]
        self.timeout = float(timeout)
        self.retry_after = float(retry_after)
        self.offline_after = int(offline_after)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="planatlas-tiles")
        self._lock = threading.Lock()
        self._pending: set[tuple[int, int, int]] = set()
        self._failed: dict[tuple[int, int, int], float] = {}
        self._fails_in_row = 0
        self._offline_since: float | None = None
        self.stats = {"fetched": 0, "failed": 0, "cache_hits": 0}
        self.last_error = ""

    # ------------------------------------------------------------------ cache
    def _path(self, z: int, x: int, y: int) -> Path:
        return self.cache_dir / str(z) / str(x) / f"{y}.tile"

    def cached(self, z: int, x: int, y: int) -> bytes | None:
        try:
            return self._path(z, x, y).read_bytes()
        except OSError:
            return None

    @property
    def offline(self) -> bool:
        return self._offline_since is not None

    # ------------------------------------------------------------------ fetching
    def fetch(self, z, x, y) -> Tile:
        data = self.cached(z, x, y)
        if data is not None:
            self.stats["cache_hits"] += 1
            return Tile(data) if data else Tile(None, "empty")
        key = (z, x, y)
        now = time.monotonic()
        with self._lock:
            if key in self._pending:
                return Tile(None, "pending")
            failed = self._failed.get(key)
            if failed is not None and now - failed < self.retry_after:
                return Tile(None, "missing")
            if self._offline_since is not None and now - self._offline_since < self.retry_after:
                if self._pending:                      # one probe at a time while offline
                    return Tile(None, "missing")
                self._offline_since = now
            self._pending.add(key)
        try:
            self._pool.submit(self._download, z, x, y)
        except RuntimeError:                           # pool shut down (closing)
            with self._lock:
                self._pending.discard(key)
            return Tile(None, "missing")
        return Tile(None, "pending")

    def _download(self, z: int, x: int, y: int) -> None:
        import urllib.error                   # imported when a tile is fetched, not at start
        import urllib.request

        key = (z, x, y)
        ok = False
        try:
            req = urllib.request.Request(tile_url(self.url, z, x, y, self.subdomains),
                                         headers={"User-Agent": USER_AGENT})
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:   # noqa: S310 - user's URL
                data = resp.read(8 << 20)
            if data and sniff_format(data) in ("png", "jpg", "webp"):
                atomic_write_bytes(self._path(z, x, y), data)
                ok = True
            elif not data:
                atomic_write_bytes(self._path(z, x, y), b"")     # the server has nothing there
                ok = True
            else:
                self.last_error = f"not an image tile from {self.name} ({len(data)} bytes)"
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                atomic_write_bytes(self._path(z, x, y), b"")
                ok = True
            else:
                self.last_error = f"HTTP {exc.code} from {self.name}"
        except (urllib.error.URLError, OSError, ValueError) as exc:
            self.last_error = f"{self.name}: {getattr(exc, 'reason', exc)}"
        with self._lock:
            self._pending.discard(key)
            if ok:
                self._failed.pop(key, None)
                self._fails_in_row = 0
                self._offline_since = None
                self.stats["fetched"] += 1
            else:
                self._failed[key] = time.monotonic()
                self._fails_in_row += 1
                self.stats["failed"] += 1
                if self._fails_in_row >= self.offline_after and self._offline_since is None:
                    self._offline_since = time.monotonic()
        cb = self.on_tile
        if cb is not None:
            try:
                cb(z, x, y)
            except Exception:            # noqa: BLE001 - a UI callback must not kill the worker
                pass

    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def cache_size(path: str | Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    return total
