"""The Export menu's dialogs: map image, interactive HTML and data, with progress and cancel.

The work itself is done by :mod:`desktop.export_map` (map pages, painted with the canvas painter)
and :mod:`layers.export` (HTML, data); this module only asks for options and runs them.  Every
export is written to a temporary file beside the target and moved into place only when it
finished and was not cancelled, so a cancelled export leaves nothing behind and keeps any old file.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, Qt, QThread, Signal
from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QLineEdit,
    QProgressDialog, QPushButton, QSpinBox, QWidget,
)

from planatlas.layers.errors import OperationError, PlanAtlasError
from planatlas.layers.export.data import CRS_CHOICES, CRS_LABELS, FORMATS
from planatlas.layers.fsutil import DurableTemp

from .i18n import crs_label, language
from .plaintext import warn

PAPERS = ("A4", "A3", "A2", "1920x1080px", "1600x900px")


def _t(zh: str, en: str) -> str:
    return en if language() == "en" else zh


class _Worker(QObject):
    finished = Signal(object, object)      # (result, error)

    def __init__(self, fn: Callable[[], dict]):
        super().__init__()
        self.fn = fn

    def run(self) -> None:
        try:
            self.finished.emit(self.fn(), None)
        except Exception as exc:  # noqa: BLE001 - reported to the user
            self.finished.emit(None, exc)


def run_in_thread(parent: QWidget, title: str, target: Path, work: Callable[[Path], dict]) -> dict | None:
    """Run a Qt-free export ``work(tmp_path)`` in a worker thread behind a cancellable busy dialog.

    ``tmp_path`` is a locked temporary file beside ``target`` (:class:`DurableTemp`); it replaces
    ``target`` (checked and fsync'ed) only when the work finished and was not cancelled."""
    try:
        temp = DurableTemp(target)
    except OperationError as exc:
        warn(parent, title, exc)
        return None
    tmp = temp.path
    progress = QProgressDialog(_t("正在导出…", "Exporting…"), _t("取消", "Cancel"), 0, 0, parent)
    progress.setWindowTitle(title)
    progress.setWindowModality(Qt.WindowModal)
    progress.setMinimumDuration(300)
    thread = QThread(parent)
    worker = _Worker(lambda: work(tmp))
    worker.moveToThread(thread)
    outcome: dict = {}

    def done(result, error):
        outcome["result"], outcome["error"] = result, error
        thread.quit()

    worker.finished.connect(done)
    thread.started.connect(worker.run)
    thread.finished.connect(progress.reset)
    thread.start()
    progress.exec()
    cancelled = progress.wasCanceled() and "result" not in outcome
    thread.wait()
    if cancelled or progress.wasCanceled():
        temp.discard()
        return None
    if outcome.get("error") is not None:
        temp.discard()
        warn(parent, title, outcome["error"])
        return None
    try:
        temp.commit()
    except OperationError as exc:
        warn(parent, title, exc)
        return None
    result = dict(outcome["result"] or {})
    result["path"] = str(target)
    return result


def run_map_export(parent: QWidget, atlas, target: Path, **options) -> dict | None:
    """Map pages are painted in the GUI thread (fonts); progress steps drive the dialog."""
    from .export_map import ExportCancelled, export_map

    title = _t("导出地图", "Export map")
    progress = QProgressDialog(_t("正在绘制地图…", "Drawing the map…"), _t("取消", "Cancel"), 0, 100, parent)
    progress.setWindowTitle(title)
    progress.setWindowModality(Qt.WindowModal)
    progress.setMinimumDuration(0)

    def step(pc: int) -> bool:
        progress.setValue(pc)
        from PySide6.QtWidgets import QApplication
        QApplication.processEvents()
        return not progress.wasCanceled()

    try:
        return export_map(atlas, options.pop("plans"), target, progress=step, **options)
    except ExportCancelled:
        return None
    except (PlanAtlasError, OSError, ValueError, KeyError, RuntimeError) as exc:
        warn(parent, title, exc)
        return None
    finally:
        progress.reset()


class _PathRow(QWidget):
    def __init__(self, default: str, filters: str, parent=None):
        super().__init__(parent)
        self.filters = filters
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit(default)
        btn = QPushButton(_t("浏览…", "Browse…"))
        btn.clicked.connect(self._browse)
        lay.addWidget(self.edit, 1)
        lay.addWidget(btn)

    def _browse(self) -> None:
        path, _f = QFileDialog.getSaveFileName(self, _t("保存为", "Save as"), self.edit.text(), self.filters)
        if path:
            self.edit.setText(path)

    def path(self) -> Path:
        return Path(self.edit.text()).expanduser()


class _OpenRow(_PathRow):
    """An optional existing file (e.g. a layout template); empty = none."""

    def __init__(self, filters: str, parent=None):
        super().__init__("", filters, parent)

    def _browse(self) -> None:
        path, _f = QFileDialog.getOpenFileName(self, _t("打开", "Open"), self.edit.text(), self.filters)
        if path:
            self.edit.setText(path)

    def text(self) -> str:
        return self.edit.text().strip()


class ExportDialog(QDialog):
    """Options for one kind of export: ``kind`` is "map", "html" or "data"."""

    def __init__(self, kind: str, plans: list[str], parent=None, *, names: list[str] | None = None,
                 districts: list[str] | None = None):
        """``names``: the plans' names in the UI language (the default file name uses them);
        ``districts``: district names offered as extents."""
        super().__init__(parent)
        self.kind = kind
        self.setWindowTitle({"map": _t("导出地图", "Export map"), "html": _t("导出交互式网页地图", "Export HTML map"),
                             "data": _t("导出数据", "Export data")}[kind])
        form = QFormLayout(self)
        label = names if names is not None else plans
        stem = (_t("规划图谱-", "planatlas-") + "-".join(n.replace(" ", "") for n in label[:3])) \
            if label else _t("规划图谱", "planatlas")
        if kind == "map":
            self.format = QComboBox()
            self.format.addItems(["png", "pdf", "svg"])
            self.paper = QComboBox()
            self.paper.setEditable(True)
            self.paper.addItems(PAPERS)
            self.orientation = QComboBox()
            self.orientation.addItem(_t("横向", "Landscape"), "landscape")
            self.orientation.addItem(_t("纵向", "Portrait"), "portrait")
            self.dpi = QSpinBox()                    # whole dots per inch: "300", not "300.00"
            self.dpi.setRange(36, 1200)
            self.dpi.setSingleStep(50)
            self.dpi.setValue(300)
            self.title_edit = QLineEdit()
            self.subtitle_edit = QLineEdit()
            form.addRow(_t("格式", "Format"), self.format)
            form.addRow(_t("纸张", "Paper"), self.paper)
            form.addRow(_t("方向", "Orientation"), self.orientation)
            form.addRow(_t("分辨率（DPI）", "Resolution (DPI)"), self.dpi)
            form.addRow(_t("标题", "Title"), self.title_edit)
            form.addRow(_t("副标题", "Subtitle"), self.subtitle_edit)
            self.layout_row = _OpenRow(_t("版式模板 (*.json)", "Layout templates (*.json)"))
            form.addRow(_t("版式模板（可选）", "Layout template (optional)"), self.layout_row)
            self.out = _PathRow(f"{stem}.png", "PNG (*.png);;PDF (*.pdf);;SVG (*.svg)")
            self.format.currentTextChanged.connect(self._sync_suffix)
        elif kind == "data":
            self.format = QComboBox()
            self.format.addItems(list(FORMATS))
            self.crs = QComboBox()
            for c in CRS_CHOICES:
                self.crs.addItem(crs_label(c) if c in ("wgs84", "gcj02", "bd09", "cgcs2000")
                                 else CRS_LABELS.get(c, c), c)
            form.addRow(_t("格式", "Format"), self.format)
            form.addRow(_t("坐标系", "Coordinates"), self.crs)
            self.out = _PathRow(f"{stem}.geojson", _t("所有文件", "All files") + " (*)")
            self.format.currentTextChanged.connect(self._sync_suffix)
            self.crs.currentIndexChanged.connect(self._sync_crs_tag)
        else:
            self.title_edit = QLineEdit()
            form.addRow(_t("标题", "Title"), self.title_edit)
            self.out = _PathRow(f"{stem}.html", _t("网页", "Web page") + " (*.html)")
        if kind in ("map", "html"):
            self.extent = QComboBox()
            for text, value in ((_t("当前视图", "Current view"), "view"),
                                (_t("规划范围", "Plan area"), "plan"),
                                (_t("全部图层内容", "Everything shown"), "all"),
                                *((_t(f"区县：{d}", f"District: {d}"), f"district:{d}")
                                  for d in districts or ())):
                self.extent.addItem(text, value)
            form.addRow(_t("范围", "Extent"), self.extent)
        form.addRow(_t("输出文件", "Output file"), self.out)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _sync_crs_tag(self, *_a) -> None:
        """A file not in WGS-84 says its system in its name (GPX/GeoJSON readers assume WGS-84)."""
        p = self.out.path()
        stem = re.sub(r"-(gcj02|bd09|cgcs2000)$", "", p.stem)
        crs = self.crs.currentData()
        self.out.edit.setText(str(p.with_name(stem + ("" if crs == "wgs84" else f"-{crs}") + p.suffix)))

    def _sync_suffix(self, fmt: str) -> None:
        p = self.out.path()
        self.out.edit.setText(str(p.with_suffix("." + fmt)))

    def options(self) -> dict:
        opts: dict = {"out": self.out.path()}
        if self.kind in ("map", "html"):
            opts["extent"] = self.extent.currentData()
        if self.kind == "map":
            opts.update(fmt=self.format.currentText(), paper=self.paper.currentText().strip(),
                        orientation=self.orientation.currentData(), dpi=float(self.dpi.value()),
                        title=self.title_edit.text() or None, subtitle=self.subtitle_edit.text() or None,
                        layout=self.layout_row.text() or None)
        elif self.kind == "data":
            opts.update(fmt=self.format.currentText(), crs=self.crs.currentData())
        else:
            opts.update(title=self.title_edit.text() or None)
        return opts


def export_from_window(window, kind: str, options: dict | None = None) -> dict | None:
    """Run an export for the main window's visible plans/categories (``options`` skip the dialog)."""
    from planatlas.layers.export.data import export_data
    from planatlas.layers.export.html import export_html
    from planatlas.layers.model import CATEGORIES

    state = window.state
    shown = [la.source for la in state.stack.find(kind="plan_category") if la.visible]
    plans = [p for p in state.scene.plans if any(s["plan"] == p for s in shown)] or list(window.atlas.plans)
    cats = [c for c in CATEGORIES if any(s["category"] == c for s in shown)] or list(CATEGORIES)
    if options is None:
        from .i18n import plan_name
        dlg = ExportDialog(kind, plans, window, names=[plan_name(window.atlas, p) for p in plans],
                           districts=_districts(window.atlas, plans))
        if dlg.exec() != QDialog.Accepted:
            return None
        options = dlg.options()
    target = Path(options.pop("out"))
    if not target.parent.is_dir():
        warn(window, "PlanAtlas", _t(f"文件夹不存在：{target.parent}", f"No such folder: {target.parent}"))
        return None
    atlas = window.atlas
    view = window.canvas.view.extent_lonlat()
    extent = options.pop("extent", "view")
    if kind == "map":
        return run_map_export(window, atlas, target, plans=plans, scene=state.scene,
                              stack=state.stack, extent=extent, view=view, **options)
    if kind == "html":
        title = options.get("title")
        try:
            box = _html_extent(atlas, plans, extent, view)
        except PlanAtlasError as exc:
            warn(window, "PlanAtlas", exc)
            return None
        stack = state.stack.copy()
        return run_in_thread(window, _t("导出网页地图", "Export HTML map"), target,
                             lambda tmp: export_html(atlas, plans, tmp, categories=cats, title=title,
                                                     stack=stack, extent=box))
    fmt, crs = options["fmt"], options["crs"]
    return run_in_thread(window, _t("导出数据", "Export data"), target,
                         lambda tmp: export_data(atlas, plans, cats, fmt, crs, tmp))


def _districts(atlas, plans: list[str]) -> list[str]:
    """District names of the plans' areas (offered as extents)."""
    try:
        table = atlas.basemap.table("districts")
    except Exception:  # noqa: BLE001 - no basemap: no districts to offer
        return []
    names, owner = table.values("name"), table.values("plan")
    return [str(n) for n, p in zip(names, owner) if p in plans and n]


def _html_extent(atlas, plans, extent, view):
    """The lon/lat box an HTML page opens on (``None``: the sites' own bounds)."""
    from planatlas.layers.extent import parse_extent, resolve_extent

    spec = parse_extent(extent)
    if spec.mode in ("plan", "all"):
        return None
    return resolve_extent(spec, atlas, plans, view=view)
