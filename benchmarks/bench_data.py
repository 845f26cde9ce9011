"""Benchmark data shared by benchmarks/render.py and benchmarks/canvas_probe.py.

Realistic clustered points, not uniform noise: 300 clusters over Guangzhou whose sizes follow a
power law (a few dense centres, many small ones), spreads from 150 m to 3 km, plus 5 % of the
points scattered over the whole area; four categories, 30 % approximate positions. Polygons
are small irregular hexagons (150–600 m) placed the same way. Written once to GeoPackages in
the temp folder (``planatlas-bench/``) and reused, so every tool reads the same file.
"""
from __future__ import annotations

import os
import resource
import tempfile
from pathlib import Path

import numpy as np

BBOX = (113.15, 22.65, 113.65, 23.55)      # Guangzhou
CATEGORIES = ("commercial_district", "night_economy", "logistics_hub", "scenic_area")
CACHE = Path(tempfile.gettempdir()) / "planatlas-bench"
VERSION = 2


def clustered_lonlat(n: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    k = 300
    centres = np.column_stack([rng.uniform(BBOX[0] + 0.05, BBOX[2] - 0.05, k),
                               rng.uniform(BBOX[1] + 0.05, BBOX[3] - 0.05, k)])
    weight = rng.pareto(1.2, k) + 1.0
    spread_m = rng.choice([150.0, 400.0, 1000.0, 3000.0], k, p=[0.3, 0.35, 0.25, 0.1])
    n_bg = n // 20
    which = rng.choice(k, n - n_bg, p=weight / weight.sum())
    sd = spread_m[which] / 111_000.0
    lon = centres[which, 0] + rng.normal(0, 1, len(which)) * sd / np.cos(np.radians(23.1))
    lat = centres[which, 1] + rng.normal(0, 1, len(which)) * sd
    lon = np.concatenate([lon, rng.uniform(BBOX[0], BBOX[2], n_bg)])
    lat = np.concatenate([lat, rng.uniform(BBOX[1], BBOX[3], n_bg)])
    perm = rng.permutation(n)
    return (np.clip(lon[perm], BBOX[0], BBOX[2]), np.clip(lat[perm], BBOX[1], BBOX[3]))


def attributes(n: int, seed: int = 7) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed + 1)
    return {"category": np.asarray(CATEGORIES, dtype=object)[rng.integers(0, 4, n)],
            "name": np.array([f"地点{i}" for i in range(n)], dtype=object),
            "precision_m": rng.choice([50.0, 200.0, 800.0, 2000.0], n),
            "status": np.where(rng.random(n) < 0.3, "approximate", "verified").astype(object)}


def hexagons(n: int, seed: int = 11):
    import shapely
    rng = np.random.default_rng(seed)
    lon, lat = clustered_lonlat(n, seed)
    r = rng.uniform(0.0007, 0.003, n)[:, None]
    ang = np.linspace(0, 2 * np.pi, 7)[:-1][None, :] + rng.uniform(0, 1, n)[:, None]
    rr = r * rng.uniform(0.7, 1.0, (n, 6))
    ring = np.stack([lon[:, None] + rr * np.cos(ang), lat[:, None] + rr * np.sin(ang) * 0.92], axis=2)
    ring = np.concatenate([ring, ring[:, :1]], axis=1)
    return shapely.polygons(ring)


def gpkg(n_points: int, n_polygons: int = 0) -> Path:
    """A GeoPackage with ``n_points`` clustered points (layer ``points``) and, if asked,
    ``n_polygons`` hexagons (layer ``polygons``), made once and kept in the temp folder."""
    import pyogrio.raw
    import shapely
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"bench-v{VERSION}-{n_points}-{n_polygons}.gpkg"
    if path.exists():
        return path
    tmp = path.with_suffix(".part.gpkg")
    if tmp.exists():
        tmp.unlink()
    lon, lat = clustered_lonlat(n_points)
    attrs = attributes(n_points)
    names = list(attrs)
    pyogrio.raw.write(str(tmp), shapely.to_wkb(shapely.points(lon, lat)), [attrs[k] for k in names],
                      names, layer="points", driver="GPKG", geometry_type="Point", crs="EPSG:4326")
    if n_polygons:
        pattrs = attributes(n_polygons, seed=21)
        pyogrio.raw.write(str(tmp), shapely.to_wkb(hexagons(n_polygons)),
                          [pattrs[k] for k in names], names, layer="polygons", driver="GPKG",
                          geometry_type="Polygon", crs="EPSG:4326", append=True)
    os.replace(tmp, path)
    return path


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} / {five:.2f} / {fifteen:.2f} on {os.cpu_count()} cores"
