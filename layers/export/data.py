"""Data exports: site lists and geodata for GIS tools, spreadsheets and phones.

``export_data(atlas, plans, categories, fmt, crs, out)`` writes the features of the chosen
plans (optionally restricted to some categories) as

* ``geojson`` – one FeatureCollection (RFC 7946 layout; coordinates in the chosen system),
* ``gpkg``    – a GeoPackage 1.3 (readable by QGIS 3.22) with one layer per category and
  geometry kind, a ``mentions`` and a ``targets`` table, and a QGIS ``layer_styles`` table so
  that QGIS opens every layer coloured by category and labelled,
* ``kml``/``kmz`` – placemarks in one folder per category, real geometry plus a pin,
* ``gpx``     – waypoints (non-point features at a representative point), extra fields as
  GPX extensions,
* ``csv``     – UTF-8 with BOM so that Excel opens Chinese text,
* ``xlsx``    – sheets ``sites``, ``citations``, ``targets``, ``compare`` (the plans' targets by
  canonical indicator, :mod:`layers.compare`), ``charts`` (the comparison charts as images)
  and ``about``.

Coordinates are converted with :mod:`layers.crs` (``wgs84``, ``gcj02``, ``bd09``,
``cgcs2000``); every file names the system it uses. Every write is atomic: the file is built
under a temporary name in the destination folder and moved into place with ``os.replace``, so
a failed export leaves any existing file untouched and no partial file behind.
"""
from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from planatlas.layers.model import CATEGORY_COLORS

from .records import (
    CRS_CHOICES, CRS_LABELS, Citation, ExportError, FORMATS, Site, _EXTENSIONS, _metadata,
    atomic_path, citation_label, format_target, resolve_categories, resolve_plans, select_sites,
)
from .tables import _write_csv, _write_geojson, _write_xlsx
from .kml import _build_kml
from .gpx import _write_gpx
from .gpkg import _write_gpkg, write_gpkg_project


__all__ = [
    "FORMATS", "CRS_CHOICES", "CRS_LABELS", "CATEGORY_COLORS", "ExportError", "Citation", "Site",
    "export_data", "select_sites", "selection", "resolve_plans", "resolve_categories", "atomic_path",
    "format_target", "citation_label",
]

# --------------------------------------------------------------------------- entry point

def _check_format(fmt: str | None, out: Path) -> str:
    if not fmt:   # infer from the file name
        suffix = out.suffix.lower()
        for name, exts in _EXTENSIONS.items():
            if suffix in exts:
                return name
        raise ExportError(f"cannot tell the export format from {out.name!r}; "
                          f"give one of {', '.join(FORMATS)}")
    key = str(fmt).lower().lstrip(".")
    if key == "json":
        key = "geojson"
    if key not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return key


def _check_crs(crs: str | None) -> str:
    if crs is None:
        return "wgs84"
    key = "".join(ch for ch in str(crs).lower() if ch.isalnum())
    key = {"epsg4326": "wgs84", "epsg4490": "cgcs2000"}.get(key, key)
    if key not in CRS_CHOICES:
        raise ExportError(f"unknown coordinate system {crs!r}; expected one of {', '.join(CRS_CHOICES)}")
    return key


def selection(atlas, plans, categories) -> tuple[list[str], list[str], list]:
    """``(plan ids, categories, sites)`` to export; :class:`ExportError` when nothing matches."""
    plan_ids = resolve_plans(atlas, plans)
    cats = resolve_categories(categories)
    sites = select_sites(atlas, plan_ids, cats)
    if not sites:
        raise ExportError(f"nothing to export: plans {', '.join(plan_ids)} have no features in "
                          f"categories {', '.join(cats)}")
    return plan_ids, cats, sites


def export_data(atlas, plans, categories, fmt: str, crs: str | None, out) -> dict[str, Any]:
    """Export the sites of ``plans`` (ids, list or ``"a,b"``) in ``categories`` (``None`` =
    all) to ``out`` as ``fmt`` with coordinates in ``crs`` (default ``wgs84``).

    Returns a summary ``{"path", "format", "crs", "plans", "categories", "sites", "layers"}``.
    Raises :class:`ExportError` for unknown plans/categories/formats/systems, an empty
    selection, or a missing output folder; nothing is written in that case.
    """
    out = Path(out)
    fmt = _check_format(fmt, out)
    crs = _check_crs(crs)
    plan_ids, cats, sites = selection(atlas, plans, categories)
    meta = _metadata(atlas, plan_ids, cats, crs)
    layers: list[str] = []
    if fmt == "geojson":
        with atomic_path(out) as tmp:
            _write_geojson(tmp, sites, crs, meta)
    elif fmt == "csv":
        with atomic_path(out) as tmp:
            _write_csv(tmp, sites, crs)
    elif fmt == "xlsx":
        with atomic_path(out) as tmp:
            _write_xlsx(tmp, sites, crs, meta, atlas=atlas, plan_ids=plan_ids)
    elif fmt in ("kml", "kmz"):
        data = _build_kml(sites, crs, meta, cats)
        with atomic_path(out) as tmp:
            if fmt == "kml":
                tmp.write_bytes(data)
            else:
                with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                    zf.writestr("doc.kml", data)
    elif fmt == "gpx":
        with atomic_path(out) as tmp:
            _write_gpx(tmp, sites, crs, meta)
    elif fmt == "gpkg":
        with atomic_path(out, create=False) as tmp:
            layers = _write_gpkg(tmp, sites, crs, meta, cats, basemap=getattr(atlas, "basemap", None))
        project = write_gpkg_project(out, layers, atlas, plan_ids, crs, sites)
        return {"path": str(out), "format": fmt, "crs": crs, "plans": plan_ids, "categories": cats,
                "sites": len(sites), "layers": layers, "qgis_project": str(project)}
    return {"path": str(out), "format": fmt, "crs": crs, "plans": plan_ids, "categories": cats,
            "sites": len(sites), "layers": layers}
