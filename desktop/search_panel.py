"""Search box → results → frame/select.

Finds places by name, alias or pinyin (``tianhelu`` / ``thl`` → 天河路), clauses by their text,
and coordinates typed in any of WGS-84 / GCJ-02 / BD-09 / CGCS2000 (``113.32,23.11``,
``23.11N 113.32E``, with the system chosen beside the box or written after the numbers, e.g.
``… gcj02``): a coordinate jumps there and drops a marker (an overlay layer, ``desktop/marker.py``).
Results show plan names and full citations, never ids; the list takes the dock's height.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox, QHBoxLayout, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget,
)

from planatlas.desktop.i18n import crs_label, language, plan_name, tr
from planatlas.desktop.state import AtlasState
from planatlas.layers.crs import CRS_NAMES
from planatlas.layers.errors import InputError

__all__ = ["SearchPanel", "show_marker"]

ROLE_HIT = Qt.UserRole + 1
MARKER_LAYER = "overlay/marker"


def show_marker(state: AtlasState, lon: float, lat: float, label: str = "") -> None:
    """Put the search marker at a WGS-84 point (one marker; it replaces the previous one)."""
    import planatlas.desktop.marker  # noqa: F401 - registers the marker kind and renderer
    state.set_overlay("marker", {"points": [(float(lon), float(lat), label)]})


def _citation(atlas, clause_id: str) -> str:
    plan_id = clause_id.split(":", 1)[0]
    plan = getattr(atlas, "plans", {}).get(plan_id)
    if plan is None:
        return clause_id
    from planatlas.layers.cite import citation
    return citation(plan, atlas.clause(clause_id), language())


class SearchPanel(QWidget):
    def __init__(self, state: AtlasState, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.edit = QLineEdit()
        self.edit.setClearButtonEnabled(True)
        self.crs_box = QComboBox()
        self.crs_box.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.crs_box.setMinimumContentsLength(7)
        for system in CRS_NAMES:
            self.crs_box.addItem("", system)
        self.results = QListWidget()
        self.results.setWordWrap(True)
        self.results.setAlternatingRowColors(True)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        row.addWidget(self.crs_box)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addLayout(row)
        lay.addWidget(self.results, 1)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.run)
        self.edit.textChanged.connect(lambda _t: self._timer.start(250))
        self.edit.returnPressed.connect(self._enter)
        self.crs_box.currentIndexChanged.connect(lambda _i: self._timer.start(50))
        self.results.itemActivated.connect(self.activate)
        self.results.itemClicked.connect(self.activate)
        self.hits: list[dict] = []
        self.retranslate()

    def retranslate(self) -> None:
        self.edit.setPlaceholderText(tr("search.placeholder"))
        for i in range(self.crs_box.count()):
            self.crs_box.setItemText(i, crs_label(self.crs_box.itemData(i)))
        self.crs_box.setToolTip(tr("search.crs"))
        if self.edit.text().strip():
            self.run()

    @property
    def crs(self) -> str:
        return self.crs_box.currentData() or "wgs84"

    def set_crs(self, system: str) -> None:
        i = self.crs_box.findData(system)
        if i < 0:
            raise ValueError(f"unknown coordinate system {system!r}")
        self.crs_box.setCurrentIndex(i)

    def _search(self, text: str) -> list[dict]:
        atlas = self.state.atlas
        try:
            return atlas.search(text, crs=self.crs)
        except TypeError:                    # an atlas without coordinate search (tests)
            return atlas.search(text)

    def _line(self, hit: dict) -> str:
        atlas = self.state.atlas
        kind = hit.get("type")
        if kind == "location":
            return (f"[{tr('search.location')}] {hit['typed'][0]:.6f}, {hit['typed'][1]:.6f} · "
                    f"{crs_label(hit['crs'])}\nWGS-84 {hit['lon']:.6f}, {hit['lat']:.6f}")
        if kind == "feature":
            plans = "、".join(plan_name(atlas, p) for p in (hit.get("plan") or "").split(",") if p)
            f = atlas.features.get(hit["id"]) if hasattr(atlas, "features") else None
            line = f"[{tr('search.feature')}] {hit.get('label', '')}"
            if plans:
                line += f"  · {plans}"
            if hit.get("match") == "pinyin":
                line += f"  ({tr('search.pinyin')})"
            if f is not None and f.district:
                line += f"\n{f.subtype} · {f.district}" if f.subtype else f"\n{f.district}"
            return line
        line = f"[{tr('search.clause')}] {_citation(atlas, hit['id'])}"
        snippet = (hit.get("snippet") or "").replace("\n", " ").strip()
        return line + (f"\n{snippet[:80]}" if snippet else "")

    def run(self, text: str | None = None) -> list[dict]:
        self._timer.stop()
        text = self.edit.text() if text is None else text
        self.results.clear()
        error = ""
        try:
            self.hits = self._search(text) if text.strip() else []
        except InputError as exc:
            self.hits, error = [], str(exc)
        for hit in self.hits:
            it = QListWidgetItem(self._line(hit))
            it.setData(ROLE_HIT, hit)
            self.results.addItem(it)
        if text.strip() and not self.hits:
            it = QListWidgetItem(tr("search.bad_coords", why=error) if error else tr("search.none"))
            it.setFlags(Qt.NoItemFlags)
            self.results.addItem(it)
        return self.hits

    def _enter(self) -> None:
        self.run()
        if self.hits:
            self.results.setCurrentRow(0)
            self.activate(self.results.item(0))

    def activate(self, item: QListWidgetItem | None) -> None:
        if item is None:
            return
        hit = item.data(ROLE_HIT)
        if not hit:
            return
        if hit.get("type") == "feature":
            self.state.select_features([hit["id"]], current=hit["id"], frame=True)
        elif hit.get("type") == "clause":
            self.state.select_clause(hit["id"])
        elif hit.get("type") == "location":
            lon, lat = hit["lon"], hit["lat"]
            show_marker(self.state, lon, lat, f"{hit['typed'][0]:.6f}, {hit['typed'][1]:.6f}")
            self.state.frame((lon, lat, lon, lat))
