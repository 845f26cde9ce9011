"""The small form for a place the user put on the map: name, aliases, category, precision.

``FeatureEditDialog(window, feature_id)``: *Save* writes only what changed through the window's
store link (``store_link.edit`` with the version the window shows, so a colleague's newer edit
opens the conflict dialog instead of being overwritten); *Delete* removes the place (undoable
with Ctrl+Z). Shipped features cannot be edited here — their positions are corrected by a field
survey.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox, QDialog, QDoubleSpinBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton,
    QVBoxLayout, QWidget,
)

from planatlas.desktop.i18n import category_label, language, tr
from planatlas.layers.model import CATEGORIES

__all__ = ["FeatureEditDialog", "ALIAS_SEPARATOR"]

ALIAS_SEPARATOR = "、"


class FeatureEditDialog(QDialog):
    def __init__(self, window, feature_id: str, parent: QWidget | None = None):
        super().__init__(parent if parent is not None else window)
        self.win = window
        self.fid = feature_id
        f = window.atlas.features[feature_id]
        if f.origin != "user":
            raise ValueError(f"{feature_id} is a shipped feature; only places you put on the map can be edited")
        self.feature = f
        self.setWindowTitle(tr("edit.title", name=f.name))
        self.name_edit = QLineEdit(f.name)
        self.aliases_edit = QLineEdit(ALIAS_SEPARATOR.join(f.aliases))
        self.aliases_edit.setPlaceholderText(tr("edit.aliases_hint"))
        self.category_box = QComboBox()
        for c in CATEGORIES:
            self.category_box.addItem(category_label(c), c)
        self.category_box.setCurrentIndex(max(0, self.category_box.findData(f.categories[0])))
        self.precision_spin = QDoubleSpinBox()
        self.precision_spin.setRange(0, 1_000_000)
        self.precision_spin.setDecimals(0)
        self.precision_spin.setSuffix(" m")
        self.precision_spin.setValue(f.precision_m)
        plan = window.atlas.plans.get(f.plans[0]) if f.plans else None
        info = QLabel(tr("edit.info", plan=plan.title if plan else (f.plans or ["?"])[0],
                         src=f.source_label(language())))
        info.setTextFormat(Qt.PlainText)
        info.setWordWrap(True)
        self.result_label = QLabel("")
        self.result_label.setTextFormat(Qt.PlainText)
        form = QFormLayout()
        form.addRow(tr("sites.name"), self.name_edit)
        form.addRow(tr("feature.aliases"), self.aliases_edit)
        form.addRow(tr("sites.categories"), self.category_box)
        form.addRow(tr("feature.precision"), self.precision_spin)
        self.save_button = QPushButton(tr("edit.save"))
        self.save_button.setDefault(True)
        self.delete_button = QPushButton(tr("edit.delete"))
        cancel = QPushButton(tr("import.close"))
        self.save_button.clicked.connect(self.save)
        self.delete_button.clicked.connect(self.delete)
        cancel.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.delete_button)
        buttons.addStretch(1)
        buttons.addWidget(cancel)
        buttons.addWidget(self.save_button)
        lay = QVBoxLayout(self)
        lay.addWidget(info)
        lay.addLayout(form)
        lay.addWidget(self.result_label)
        lay.addLayout(buttons)

    def changes(self) -> dict:
        """What the form changes, as ``edit_feature`` keyword arguments."""
        f = self.feature
        out: dict = {}
        name = " ".join(self.name_edit.text().split())
        if name != f.name:
            out["name"] = name
        aliases = [a.strip() for a in self.aliases_edit.text().replace("，", ALIAS_SEPARATOR)
                   .replace(",", ALIAS_SEPARATOR).split(ALIAS_SEPARATOR) if a.strip()]
        if aliases != list(f.aliases):
            out["aliases"] = aliases
        cat = self.category_box.currentData()
        if cat not in f.categories[:1]:
            out["category"] = cat
        if abs(self.precision_spin.value() - f.precision_m) >= 0.5:
            out["precision_m"] = self.precision_spin.value()
        return out

    def save(self):
        """Write the changes; returns the operation (None if nothing changed or it was refused)."""
        changes = self.changes()
        if not changes:
            self.accept()
            return None
        self.win.store_link.last_refusal = ""
        op = self.win.store_link.edit(self.fid, **changes)
        if op is not None:
            self.accept()
        else:
            self.result_label.setText(self.win.store_link.last_refusal)
        return op

    def delete(self):
        op = self.win.store_link.delete(self.fid)
        if op is not None:
            self.win.statusBar().showMessage(tr("edit.deleted", name=self.feature.name), 10000)
            self.accept()
        return op
