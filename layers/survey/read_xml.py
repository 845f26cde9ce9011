"""GPS and map-app surveys: GPX waypoints/route points, KML and KMZ placemarks."""
from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any, Iterator
from xml.etree import ElementTree as ET

from .rows import SurveyFormatError, SurveyRow
from .read_table import _map_header
from .values import normalize_verdict, parse_coord

def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if "}" in tag else tag


def _child_text(elem: ET.Element, name: str) -> str | None:
    for ch in elem:
        if _local(ch.tag) == name:
            return (ch.text or "").strip() or None
    return None


def _iter_gpx(path: Path) -> Iterator[SurveyRow]:
    n = 0
    n_track = 0
    try:
        for _, elem in ET.iterparse(path, events=("end",)):
            tag = _local(elem.tag)
            if tag in ("wpt", "rtept"):
                n += 1
                r = SurveyRow(row=n, where=f"{'waypoint' if tag == 'wpt' else 'route point'} {n}")
                r.name = _child_text(elem, "name")
                r.notes = _child_text(elem, "desc") or _child_text(elem, "cmt")
                r.date = _child_text(elem, "time")
                r.status = normalize_verdict(_child_text(elem, "type"))
                try:
                    r.lon, _ = parse_coord(elem.get("lon"))
                    r.lat, _ = parse_coord(elem.get("lat"))
                except ValueError as exc:
                    r.error = f"bad lat/lon attributes: {exc}"
                yield r
                elem.clear()
            elif tag == "trkpt":
                n_track += 1
                elem.clear()
    except ET.ParseError as exc:
        raise SurveyFormatError(f"{path}: not well-formed GPX XML ({exc}) after {n} waypoints") from None
    if n == 0:
        extra = f" (only {n_track} unnamed track points)" if n_track else ""
        raise SurveyFormatError(f"{path}: no waypoints (<wpt>/<rtept>) found{extra}")


def _kml_coords(text: str | None) -> list[tuple[float, float]]:
    out = []
    for tup in (text or "").split():
        parts = tup.split(",")
        if len(parts) >= 2:
            out.append((float(parts[0]), float(parts[1])))
    return out


def _iter_kml_stream(source: Any, path: Path) -> Iterator[SurveyRow]:
    n = 0
    try:
        for _, elem in ET.iterparse(source, events=("end",)):
            if _local(elem.tag) != "Placemark":
                continue
            n += 1
            r = SurveyRow(row=n, where=f"placemark {n}")
            r.name = _child_text(elem, "name")
            r.notes = _child_text(elem, "description")
            extra: dict[str, str] = {}
            when = None
            point = None
            other: list[tuple[float, float]] = []
            bad = None
            for sub in elem.iter():
                t = _local(sub.tag)
                if t == "Data" and sub.get("name"):
                    extra[sub.get("name")] = _child_text(sub, "value") or ""
                elif t == "SimpleData" and sub.get("name"):
                    extra[sub.get("name")] = (sub.text or "").strip()
                elif t == "when" and when is None:
                    when = (sub.text or "").strip() or None
                elif t == "Point":
                    for c in sub:
                        if _local(c.tag) == "coordinates":
                            try:
                                pts = _kml_coords(c.text)
                            except ValueError:
                                bad = f"bad <coordinates> {(c.text or '').strip()[:40]!r}"
                                pts = []
                            if pts and point is None:
                                point = pts[0]
                elif t == "coordinates" and point is None:
                    try:
                        other.extend(_kml_coords(sub.text))
                    except ValueError:
                        bad = f"bad <coordinates> {(sub.text or '').strip()[:40]!r}"
            mapping = _map_header(list(extra.keys()))
            values = list(extra.values())
            for role, attr in (("fid", "fid"), ("notes", "notes"), ("date", "date")):
                if role in mapping and getattr(r, attr) is None:
                    setattr(r, attr, values[mapping[role]] or None)
            if r.name is None and "name" in mapping:
                r.name = values[mapping["name"]] or None
            r.status = (normalize_verdict(values[mapping["result"]]) if "result" in mapping else None) or (
                normalize_verdict(values[mapping["status"]]) if "status" in mapping else None)
            r.date = r.date or when
            if point is not None:
                r.lon, r.lat = point
            elif other:
                r.lon = sum(p[0] for p in other) / len(other)
                r.lat = sum(p[1] for p in other) / len(other)
                r.message = f"placemark is not a point; used the mean of its {len(other)} vertices"
            else:
                r.error = bad or "placemark has no coordinates"
            yield r
            elem.clear()
    except ET.ParseError as exc:
        raise SurveyFormatError(f"{path}: not well-formed KML XML ({exc}) after {n} placemarks") from None
    if n == 0:
        raise SurveyFormatError(f"{path}: no placemarks found")


def _iter_kml(path: Path) -> Iterator[SurveyRow]:
    if path.suffix.lower() == ".kmz" or zipfile.is_zipfile(path):
        try:
            zf = zipfile.ZipFile(path)
        except zipfile.BadZipFile as exc:
            raise SurveyFormatError(f"{path}: not a readable KMZ ({exc})") from None
        with zf:
            names = [n for n in zf.namelist() if n.lower().endswith(".kml")]
            if not names:
                raise SurveyFormatError(f"{path}: KMZ archive contains no .kml file")
            main = "doc.kml" if "doc.kml" in names else names[0]
            with zf.open(main) as fh:
                yield from _iter_kml_stream(fh, path)
    else:
        yield from _iter_kml_stream(str(path), path)
