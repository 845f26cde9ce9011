"""GPX waypoints for GPS receivers and phone apps."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import shapely


from .records import CRS_LABELS, Site, _flat, _site_record, clean_text, format_target


# --------------------------------------------------------------------------- GPX

def _write_gpx(path: Path, sites: list[Site], crs: str, meta: dict[str, Any]) -> None:
    """GDAL's GPX writer does not report failed writes, so it writes into memory and the bytes
    are written (and checked) by Python."""
    import io

    import geopandas as gpd
    import pyogrio

    rows, geoms = [], []
    for s in sites:
        rec = _flat(_site_record(s, crs))
        f = s.feature
        desc = [f"{rec['category_labels']} · {f.subtype}".strip(" ·"), f.district]
        desc += [f"{c.label} {c.heading}" for c in s.citations]
        desc += [format_target(t) for t in s.targets]
        if crs != "wgs84":
            desc.append(f"坐标系 {CRS_LABELS[crs]}")
        rows.append({
            "name": clean_text(f.name),
            "desc": clean_text("\n".join(x for x in desc if x)),
            "type": s.primary_category,
            "id": clean_text(f.id),
            "categories": clean_text(rec["categories"]),
            "district": clean_text(f.district),
            "plans": clean_text(rec["plans"]),
            "precision_m": float(f.precision_m),
            "status": clean_text(f.status),
            "citations": clean_text(rec["citations"]),
            "crs": crs,
        })
        geoms.append(shapely.Point(rec["lon"], rec["lat"]))
    gdf = gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4326")
    buf = io.BytesIO()
    titles = "；".join(p["title"] for p in meta.get("plans", []))
    # the coordinate system in the file's own metadata: GPX means WGS-84, so a GCJ-02/BD-09 file
    # says so where GDAL and QGIS show it, not only per waypoint
    desc = (f"坐标系 Coordinates: {CRS_LABELS[crs]}" + ("" if crs == "wgs84" else
            " — NOT WGS-84: GPS receivers and GIS tools assume WGS-84; use only in apps of this system"))
    pyogrio.write_dataframe(
        gdf, buf, layer="waypoints", driver="GPX",
        dataset_options={"GPX_USE_EXTENSIONS": "YES", "GPX_EXTENSIONS_NS": "planatlas",
                         "GPX_EXTENSIONS_NS_URL": "urn:planatlas:gpx:1"},
    )
    from xml.sax.saxutils import escape

    # GPX 1.1: <metadata> is the first child of <gpx>, name and desc come before GDAL's bounds
    block = (f"<name>{escape(clean_text(f'PlanAtlas — {titles}'))}</name>"
             f"<desc>{escape(clean_text(desc))}</desc>").encode("utf-8")
    data = buf.getvalue()
    if re.search(rb"<metadata>", data):
        data = re.sub(rb"<metadata>", lambda m: b"<metadata>" + block, data, count=1)
    else:
        data = re.sub(rb"(<gpx\b[^>]*>)", lambda m: m.group(1) + b"\n<metadata>" + block + b"</metadata>",
                      data, count=1)
    with open(path, "wb") as fh:
        fh.write(data)
