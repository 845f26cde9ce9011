"""Dialogs for the user's own layers: coordinate system, layer of a multi-layer file, online tile
source, and the simple style dialog (single / categorized / graduated, label field, opacity)."""
from __future__ import annotations

from typing import Any

from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QColorDialog, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QInputDialog,
    QLabel, QLineEdit, QPushButton, QSpinBox, QVBoxLayout, QWidget,
)

from planatlas.desktop.i18n import tr
from planatlas.layers.errors import InputError
from planatlas.layers.tiles import check_template
from planatlas.layers.userdata.style import RAMPS

__all__ = ["ask_crs", "ask_layer", "OnlineSourceDialog", "StyleDialog"]

CRS_KEYS = ("auto", "wgs84", "cgcs2000", "gcj02", "bd09")


def ask_crs(parent: QWidget | None, name: str) -> str | None:
    items = [tr(f"user.crs_{k}") for k in CRS_KEYS]
    text, ok = QInputDialog.getItem(parent, tr("user.crs_title"), tr("user.crs_prompt", name=name),
                                    items, 0, False)
    return CRS_KEYS[items.index(text)] if ok else None


def ask_layer(parent: QWidget | None, name: str, names: list[str]) -> str | None:
    text, ok = QInputDialog.getItem(parent, tr("user.layer_pick"), tr("user.layer_prompt", name=name),
                                    names, 0, False)
    return text if ok else None


class OnlineSourceDialog(QDialog):
    """URL template, name, attribution, subdomains, the tiles' datum and max zoom."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(tr("online.title"))
        self.url = QLineEdit()
        self.url.setPlaceholderText("https://example.org/tiles/{z}/{x}/{y}.png")
        self.name = QLineEdit()
        self.attribution = QLineEdit()
        self.subdomains = QLineEdit()
        self.datum = QComboBox()
        self.datum.addItem(tr("online.wgs84"), "wgs84")
        self.datum.addItem(tr("online.gcj02"), "gcj02")
        self.maxzoom = QSpinBox()
        self.maxzoom.setRange(1, 22)
        self.maxzoom.setValue(18)
        self.error = QLabel()
        self.error.setStyleSheet("color:#b00020")
        warn = QLabel(tr("online.warning"))
        warn.setWordWrap(True)
        form = QFormLayout()
        form.addRow(tr("online.url"), self.url)
        form.addRow(tr("online.name"), self.name)
        form.addRow(tr("online.attribution"), self.attribution)
        form.addRow(tr("online.subdomains"), self.subdomains)
        form.addRow(tr("online.datum"), self.datum)
        form.addRow(tr("online.maxzoom"), self.maxzoom)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        box = QVBoxLayout(self)
        box.addWidget(warn)
        box.addLayout(form)
        box.addWidget(self.error)
        box.addWidget(buttons)
        self.resize(560, 300)

    def source(self) -> dict[str, Any]:
        return {"type": "online", "url": self.url.text().strip(), "name": self.name.text().strip(),
                "attribution": self.attribution.text().strip(),
                "subdomains": self.subdomains.text().strip(), "datum": self.datum.currentData(),
                "maxzoom": self.maxzoom.value()}

    def _accept(self) -> None:
        try:
            check_template(self.url.text())
        except InputError as exc:
            self.error.setText(str(exc))
            return
        self.accept()


class StyleDialog(QDialog):
    """Symbology of a user vector layer; ``values()`` is what to pass to ``stack.set_style``."""

    def __init__(self, layer, fields: list[str], parent: QWidget | None = None):
        super().__init__(parent)
        st = layer.style
        self.setWindowTitle(tr("style.title", name=layer.title()))
        self.mode = QComboBox()
        for m in ("single", "categorized", "graduated"):
            self.mode.addItem(tr(f"style.{m}"), m)
        self.mode.setCurrentIndex(max(0, self.mode.findData(st["mode"])))
        self.field = QComboBox()
        self.label = QComboBox()
        self.label.addItem(tr("style.none"), "")
        for f in fields:
            self.field.addItem(f, f)
            self.label.addItem(f, f)
        self.field.setCurrentIndex(max(0, self.field.findData(st["field"])))
        self.label.setCurrentIndex(max(0, self.label.findData(st["label_field"])))
        self._color = QColor(st["color"])
        self.color = QPushButton()
        self.color.clicked.connect(self._pick)
        self._show_color()
        self.size = QDoubleSpinBox()
        self.size.setRange(2, 60)
        self.size.setValue(float(st["size"]))
        self.width = QDoubleSpinBox()
        self.width.setRange(0.1, 20)
        self.width.setValue(float(st["width"]))
        self.fill = QSpinBox()
        self.fill.setRange(1, 100)
        self.fill.setValue(int(round(float(st["fill_alpha"]) * 100)))
        self.classes = QSpinBox()
        self.classes.setRange(2, 9)
        self.classes.setValue(int(st["classes"]))
        self.ramp = QComboBox()
        for r in RAMPS:
            self.ramp.addItem(r, r)
        self.ramp.setCurrentIndex(max(0, self.ramp.findData(st["ramp"])))
        self.opacity = QSpinBox()
        self.opacity.setRange(0, 100)
        self.opacity.setValue(int(round(layer.opacity * 100)))
        form = QFormLayout()
        for key, w in (("style.mode", self.mode), ("style.field", self.field),
                       ("style.color", self.color), ("style.size", self.size),
                       ("style.width", self.width), ("style.fill_alpha", self.fill),
                       ("style.classes", self.classes), ("style.ramp", self.ramp),
                       ("style.label", self.label), ("style.opacity", self.opacity)):
            form.addRow(tr(key), w)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        box = QVBoxLayout(self)
        box.addLayout(form)
        box.addWidget(buttons)

    def _show_color(self) -> None:
        self.color.setText(self._color.name())
        self.color.setStyleSheet(f"background:{self._color.name()}; color:"
                                 f"{'#fff' if self._color.lightness() < 128 else '#000'}")

    def _pick(self) -> None:
        c = QColorDialog.getColor(self._color, self)
        if c.isValid():
            self._color = c
            self._show_color()

    def values(self) -> tuple[dict[str, Any], float]:
        return ({"mode": self.mode.currentData(), "field": self.field.currentData() or "",
                 "color": self._color.name(), "size": self.size.value(),
                 "width": self.width.value(), "fill_alpha": self.fill.value() / 100.0,
                 "classes": float(self.classes.value()), "ramp": self.ramp.currentData(),
                 "label_field": self.label.currentData() or ""}, self.opacity.value() / 100.0)
