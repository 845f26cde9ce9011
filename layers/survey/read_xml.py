"""GPS and map-app surveys: GPX waypoints/route points, KML and KMZ placemarks.

Read with expat as a stream of events (no element tree is kept): memory stays flat however many
placemarks a file has, ``cancel`` is polled inside long files, entity declarations are refused
(no entity bombs, no external entities) and a single huge token (a 16 MB comment) costs linear
time — the parser is fed ever larger blocks while a token is incomplete, because expat before
2.6 re-scans an incomplete token on every feed.
"""
from __future__ import annotations

import pyexpat
import re
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator

from .guard import MAX_XML_BYTES, MAX_XML_TOKEN, Guard, SafeZip
from .read_table import _map_header
from .rows import SurveyFormatError, SurveyRow
from .values import normalize_verdict, parse_coord

_TEXT_LIMIT = 16 * 2**20         # one collected text (a name, a description, a coordinate list)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if "}" in tag else tag.rsplit(":", 1)[-1]


class _Refused(Exception):
    """Raised inside an expat handler; re-raised as SurveyFormatError outside."""


def _stream_xml(source: BinaryIO, guard: Guard, start: Callable, end: Callable,
                text: Callable[[str], None], what: str, progress: Callable[[], str]) -> Iterator[None]:
    """Feed ``source`` to expat block by block, calling ``start(local, attrs)``, ``end(local)``
    and ``text(s)``; yields after every block so that the caller can hand out finished rows."""
    p = pyexpat.ParserCreate(namespace_separator="}")
    p.buffer_text = True
    p.buffer_size = 1 << 16
    events = [0]

    def on_start(name, attrs):
        events[0] += 1
        start(_local(name), attrs)

    def on_end(name):
        events[0] += 1
        end(_local(name))

    def on_text(data):
        events[0] += 1
        text(data)

    def on_other(*_a):
        events[0] += 1

    def on_entity(*_a):
        raise _Refused("entity declarations (<!ENTITY>) are not allowed in survey files")

    p.StartElementHandler = on_start
    p.EndElementHandler = on_end
    p.CharacterDataHandler = on_text
    p.CommentHandler = on_other
    p.ProcessingInstructionHandler = on_other
    p.EntityDeclHandler = on_entity
    p.SetParamEntityParsing(pyexpat.XML_PARAM_ENTITY_PARSING_NEVER)
    size = base = 1 << 16
    pending = 0
    total = 0
    try:
        while True:
            guard.poll()
            block = source.read(size)
            if not block:
                break
            total += len(block)
            if total > MAX_XML_BYTES:
                raise _Refused(f"more than {MAX_XML_BYTES // 2**20:,} MB of XML (the limit)")
            before = events[0]
            p.Parse(block, False)
            yield
            if events[0] == before:          # inside one token: feed bigger blocks (linear time)
                pending += len(block)
                if pending > MAX_XML_TOKEN:
                    raise _Refused(f"a single XML token (comment, tag or attribute) over "
                                   f"{MAX_XML_TOKEN // 2**20} MB")
                size = min(size * 2, MAX_XML_TOKEN)     # geometric up to the token limit
            else:
                pending, size = 0, base
        p.Parse(b"", True)
        yield
    except pyexpat.ExpatError as exc:
        raise _Refused(f"not well-formed {what} XML ({pyexpat.ErrorString(exc.code)}: line "
                       f"{exc.lineno}, column {exc.offset}) after {progress()}") from None


class _Text:
    """Collects character data with a size cap."""

    __slots__ = ("parts", "size", "what")

    def __init__(self, what: str):
        self.parts: list[str] = []
        self.size = 0
        self.what = what

    def add(self, s: str) -> None:
        self.size += len(s)
        if self.size > _TEXT_LIMIT:
            raise _Refused(f"the text of {self.what} is over {_TEXT_LIMIT // 2**20} MB")
        self.parts.append(s)

    def value(self) -> str | None:
        return "".join(self.parts).strip() or None


def _drive(source: BinaryIO, path: Path, guard: Guard, handler, what: str) -> Iterator[SurveyRow]:
    """Parse ``source`` with ``handler`` and yield its rows as blocks are parsed."""
    try:
        for _ in _stream_xml(source, guard, handler.start, handler.end, handler.text, what,
                             handler.progress):
            if handler.rows:
                rows, handler.rows = handler.rows, []
                yield from rows
    except _Refused as exc:
        raise SurveyFormatError(f"{path}: {exc}") from None


# --------------------------------------------------------------------------- GPX

class _Gpx:
    """Waypoints (``wpt``) and route points (``rtept``); track points are only counted."""

    def __init__(self, guard: Guard):
        self.guard = guard
        self.rows: list[SurveyRow] = []      # rows completed since the last drain
        self.n = 0
        self.n_track = 0
        self.depth = 0
        self.point: dict[str, Any] | None = None     # the open waypoint
        self.point_depth = 0
        self.field: _Text | None = None
        self.field_name = ""

    def progress(self) -> str:
        return f"{self.n} waypoints"

    def start(self, tag: str, attrs: dict) -> None:
        self.depth += 1
        if self.point is None:
            if tag in ("wpt", "rtept"):
                self.point = {"tag": tag, "lat": attrs.get("lat"), "lon": attrs.get("lon")}
                self.point_depth = self.depth
            elif tag == "trkpt":
                self.n_track += 1
        elif self.depth == self.point_depth + 1 and tag in ("name", "desc", "cmt", "time", "type") \
                and tag not in self.point:
            self.field, self.field_name = _Text(f"<{tag}> of waypoint {self.n + 1}"), tag

    def text(self, s: str) -> None:
        if self.field is not None:
            self.field.add(s)

    def end(self, tag: str) -> None:
        if self.field is not None and self.depth == self.point_depth + 1:
            self.point[self.field_name] = self.field.value()
            self.field = None
        elif self.point is not None and self.depth == self.point_depth:
            self._finish(self.point)
            self.point = None
        self.depth -= 1

    def _finish(self, pt: dict[str, Any]) -> None:
        self.n += 1
        kind = "waypoint" if pt["tag"] == "wpt" else "route point"
        r = SurveyRow(row=self.n, where=f"{kind} {self.n}")
        r.name = pt.get("name")
        r.notes = pt.get("desc") or pt.get("cmt")
        r.date = pt.get("time")
        r.status = normalize_verdict(pt.get("type"))
        try:
            r.lon, _ = parse_coord(pt.get("lon"))
            r.lat, _ = parse_coord(pt.get("lat"))
        except ValueError as exc:
            r.error = f"bad lat/lon attributes: {exc}"
        self.rows.append(self.guard.take(r))


# --------------------------------------------------------------------------- KML

_TUPLE = re.compile(r"\S+")


def _kml_coords(text: str, first_only: bool) -> tuple[float, float, int, tuple | None]:
    """Sum of x, sum of y, count and first (x, y) of a ``<coordinates>`` text, without keeping
    the vertices (a line may have millions); ValueError for a bad number."""
    sx = sy = 0.0
    k = 0
    first = None
    for m in _TUPLE.finditer(text):
        parts = m.group().split(",")
        if len(parts) >= 2:
            x, y = float(parts[0]), float(parts[1])
            if first is None:
                first = (x, y)
                if first_only:
                    return x, y, 1, first
            sx += x
            sy += y
            k += 1
    return sx, sy, k, first


class _Kml:
    """Placemarks: name and description (direct children), ExtendedData, ``when``, a Point's
    coordinates, else the mean of every vertex (with a remark)."""

    def __init__(self, guard: Guard):
        self.guard = guard
        self.rows: list[SurveyRow] = []
        self.n = 0
        self.depth = 0
        self.pm: dict[str, Any] | None = None
        self.pm_depth = 0
        self.field: _Text | None = None
        self.field_key: tuple = ()
        self.field_depth = 0
        self.data_name: str | None = None
        self.in_point = 0

    def progress(self) -> str:
        return f"{self.n} placemarks"

    def _collect(self, key: tuple, what: str) -> None:
        self.field, self.field_key, self.field_depth = _Text(what), key, self.depth

    def start(self, tag: str, attrs: dict) -> None:
        self.depth += 1
        pm = self.pm
        if pm is None:
            if tag == "Placemark":
                self.pm = {"extra": {}, "when": None, "point": None, "sum": [0.0, 0.0, 0],
                           "bad": None, "name": None, "description": None}
                self.pm_depth = self.depth
            return
        if self.field is not None:
            return
        where = f"placemark {self.n + 1}"
        if self.depth == self.pm_depth + 1 and tag in ("name", "description") and pm[tag] is None:
            self._collect(("direct", tag), f"<{tag}> of {where}")
        elif tag == "Data" and attrs.get("name"):
            self.data_name = attrs["name"]
        elif tag == "value" and self.data_name is not None:
            self._collect(("data", self.data_name), f"<value> of {where}")
        elif tag == "SimpleData" and attrs.get("name"):
            self._collect(("data", attrs["name"]), f"<SimpleData> of {where}")
        elif tag == "when" and pm["when"] is None:
            self._collect(("when",), f"<when> of {where}")
        elif tag == "Point":
            self.in_point = self.depth
        elif tag == "coordinates":
            point = self.in_point and self.depth == self.in_point + 1
            self._collect(("coords", point), f"<coordinates> of {where}")

    def text(self, s: str) -> None:
        if self.field is not None:
            self.field.add(s)

    def end(self, tag: str) -> None:
        pm = self.pm
        if self.field is not None and self.depth == self.field_depth:
            self._store(pm, self.field_key, self.field)
            self.field = None
        elif pm is not None:
            if tag == "Data":
                self.data_name = None
            elif tag == "Point" and self.depth == self.in_point:
                self.in_point = 0
            elif self.depth == self.pm_depth:
                self._finish(pm)
                self.pm = None
        self.depth -= 1

    def _store(self, pm: dict[str, Any], key: tuple, field: _Text) -> None:
        kind = key[0]
        if kind == "direct":
            pm[key[1]] = field.value()
        elif kind == "data":
            pm["extra"][key[1]] = field.value() or ""
        elif kind == "when":
            pm["when"] = field.value()
        else:
            raw = "".join(field.parts)
            point = key[1]                   # a Point's own coordinates: the first pair
            if not point and pm["point"] is not None:
                return
            try:
                sx, sy, k, first = _kml_coords(raw, first_only=point)
            except ValueError:
                pm["bad"] = f"bad <coordinates> {raw.strip()[:40]!r}"
                return
            if point:
                if first is not None and pm["point"] is None:
                    pm["point"] = first
            else:
                s = pm["sum"]
                s[0] += sx
                s[1] += sy
                s[2] += k

    def _finish(self, pm: dict[str, Any]) -> None:
        self.n += 1
        r = SurveyRow(row=self.n, where=f"placemark {self.n}")
        r.name = pm["name"]
        r.notes = pm["description"]
        extra: dict[str, str] = pm["extra"]
        mapping = _map_header(list(extra.keys()))
        values = list(extra.values())
        for role, attr in (("fid", "fid"), ("notes", "notes"), ("date", "date")):
            if role in mapping and getattr(r, attr) is None:
                setattr(r, attr, values[mapping[role]] or None)
        if r.name is None and "name" in mapping:
            r.name = values[mapping["name"]] or None
        r.status = (normalize_verdict(values[mapping["result"]]) if "result" in mapping else None) or (
            normalize_verdict(values[mapping["status"]]) if "status" in mapping else None)
        r.date = r.date or pm["when"]
        sx, sy, k = pm["sum"]
        if pm["point"] is not None:
            r.lon, r.lat = pm["point"]
        elif k:
            r.lon, r.lat = sx / k, sy / k
            r.message = f"placemark is not a point; used the mean of its {k} vertices"
        else:
            r.error = pm["bad"] or "placemark has no coordinates"
        self.rows.append(self.guard.take(r))


# --------------------------------------------------------------------------- entry points

def _iter_gpx(path: Path, guard: Guard | None = None) -> Iterator[SurveyRow]:
    guard = guard or Guard(path)
    h = _Gpx(guard)
    with open(path, "rb") as fh:
        yield from _drive(fh, path, guard, h, "GPX")
    if h.n == 0:
        extra = f" (only {h.n_track} unnamed track points)" if h.n_track else ""
        raise SurveyFormatError(f"{path}: no waypoints (<wpt>/<rtept>) found{extra}")


def _kml_rows(fh: BinaryIO, path: Path, guard: Guard) -> Iterator[SurveyRow]:
    h = _Kml(guard)
    yield from _drive(fh, path, guard, h, "KML")
    if h.n == 0:
        raise SurveyFormatError(f"{path}: no placemarks found")


def _kmz_limit(name: str) -> int:
    return MAX_XML_BYTES if name.lower().endswith(".kml") else 64 * 2**20


def _iter_kml(path: Path, guard: Guard | None = None) -> Iterator[SurveyRow]:
    guard = guard or Guard(path)
    with open(path, "rb") as fh:
        is_zip = fh.read(4) == b"PK\x03\x04"
    if not (is_zip or path.suffix.lower() == ".kmz"):
        with open(path, "rb") as fh:
            yield from _kml_rows(fh, path, guard)
        return
    with SafeZip(path, guard, what="KMZ", limits=_kmz_limit) as zf:
        names = [n for n in zf.namelist() if n.lower().endswith(".kml")]
        if not names:
            raise SurveyFormatError(f"{path}: KMZ archive contains no .kml file")
        main = "doc.kml" if "doc.kml" in names else names[0]
        with zf.open(main) as fh:
            yield from _kml_rows(fh, path, guard)
