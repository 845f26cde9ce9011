"""The window's link to the user store: edits from the map, colleagues' edits arriving live,
conflicts shown to the user, offline work synced on reconnect.

``StoreLink(window)`` gives the window (and the placing tool built on it) ``place``, ``move``,
``delete``, ``undo`` and ``redo``; each writes through :mod:`planatlas.layers.store` with the
version the window shows, then updates the map. A stale edit opens a :class:`ConflictDialog`
with both values (the map shows theirs until the user chooses "Use mine").

With a team store a worker ``QThread`` waits on the store's change feed (PostgreSQL
``LISTEN``) and hands other clients' operations to the main thread, which swaps the changed
features into the map and notes them in the status bar — the UI thread never waits on the
network. When the server drops, the thread retries every few seconds; on reconnect it syncs
the work queued offline and says so.
"""
from __future__ import annotations

import threading
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from planatlas.desktop.i18n import tr
from planatlas.layers.errors import PlanAtlasError

__all__ = ["StoreLink", "FeedWorker"]


class FeedWorker(QObject):
    """Runs in a QThread: waits for other clients' operations, reconnects, syncs."""
    opsReady = Signal(list)
    stateChanged = Signal(str, str)          # "online" | "offline", message

    def __init__(self, url: str | None, client: str, since_seq: int | None, *, team: bool,
                 synced: bool):
        super().__init__()
        self.url, self.client, self.since, self.team = url, client, since_seq, team
        self.stop = threading.Event()
        self.synced = synced

    @Slot()
    def run(self) -> None:
        from planatlas.layers.store.live import ChangeFeed

        feed = None
        offline = False
        while not self.stop.is_set():
            try:
                if feed is None:
                    if self.team and not self.synced:
                        from planatlas.layers.store import sync
                        report = sync.sync(self.url)
                        self.synced = True
                        self.stateChanged.emit("online", "; ".join(report.lines()))
                        self.opsReady.emit([self._snapshot()])     # what changed meanwhile
                    feed = ChangeFeed(self.url, ignore_client=self.client, since_seq=self.since)
                    if offline:
                        offline = False
                        self.stateChanged.emit("online", "")
                ops = feed.wait(1.0)
                if ops:
                    self.since = feed.last_seq
                    self.opsReady.emit(ops)
            except (PlanAtlasError, OSError) as exc:
                if feed is not None:
                    feed.close()
                    feed = None
                if not offline:
                    offline = True
                    self.stateChanged.emit("offline", str(exc))
                self.synced = not self.team          # back online: push what was queued
                self.stop.wait(3.0)
        if feed is not None:
            feed.close()


    def _snapshot(self):
        """Every live feature and position of the team store, as one pseudo-operation."""
        from planatlas.layers.store import Item, OpRecord, open_store

        s = open_store(self.url, offline_ok=False)
        try:
            items = [Item(entity, fid, None, {k: v for k, v in rec.items()
                                              if k not in ("version", "deleted", "changed_by", "changed_at", "op_id")},
                          version=rec["version"])
                     for entity, rows in (("feature", s.user_features()), ("position", s.positions()))
                     for fid, rec in rows.items()]
        finally:
            s.close()
        return OpRecord("snapshot", "snapshot", "", "", summary="sync", client="snapshot", items=items)


class StoreLink(QObject):
    opsApplied = Signal(list)                # operations now on the map (own and others')
    conflictShown = Signal(object)           # the ConflictDialog
    refused = Signal(str)                    # a write or undo the store refused: its reason

    def __init__(self, window, *, live: bool | None = None):
        super().__init__(window)
        self.win = window
        self._store = None
        self._live = live
        self._thread: QThread | None = None
        self._worker: FeedWorker | None = None
        self._startup = dict(window.atlas.features)
        self._shipped: dict[str, Any] | None = None
        self.last_conflict = None
        self.last_refusal = ""
        if getattr(window.atlas, "versions", None) is None:
            window.atlas.versions = {}

    # ------------------------------------------------------------------ the store
    @property
    def store(self):
        if self._store is None:
            from planatlas.layers.store import open_store
            self._store = open_store()
        return self._store

    def start(self) -> None:
        """Start the live feed (by default only for a team store)."""
        from planatlas.layers.store.config import configured, parse_target

        url, _origin = configured()
        kind, _target = parse_target(url)
        if not (self._live if self._live is not None else kind == "postgis"):
            return
        try:
            since = self.store.last_seq()
        except PlanAtlasError:
            since = None
        offline = bool(getattr(self.store, "offline", False))
        self._worker = FeedWorker(url if kind == "postgis" else str(_target), self.store.client,
                                  None if offline else since, team=kind == "postgis",
                                  synced=not offline)
        self._thread = QThread(self)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.opsReady.connect(self.apply_ops)
        self._worker.stateChanged.connect(self._state)
        self._thread.start()

    def stop(self) -> None:
        if self._worker is not None:
            self._worker.stop.set()
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait(10_000)
            self._thread = None
        if self._store is not None:
            self._store.close()

    def _state(self, state: str, message: str) -> None:
        sb = self.win.statusBar()
        if state == "offline":
            sb.showMessage(f"{tr('store.offline')} — {message[:160]}", 15000)
        else:
            from planatlas.layers import store as st
            if self._store is not None and getattr(self._store, "offline", False):
                self._store.close()
                self._store = None
            st.reset()
            sb.showMessage(tr("store.online") + (f" — {message[:200]}" if message else ""), 15000)

    def show_notices(self, notices: list[str]) -> None:
        """Store warnings in a (non-blocking) message box and the status bar."""
        if not notices:
            return
        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QMessageBox

        box = QMessageBox(QMessageBox.Warning, tr("store.warning"), "\n\n".join(notices), parent=self.win)
        box.setTextFormat(Qt.PlainText)
        box.open()
        self.notice_box = box
        self.win.statusBar().showMessage(notices[0][:200], 30000)

    def switch(self) -> list[str]:
        """The store choice changed (File › Team store…): reload the atlas from the store now
        chosen and show it in this window — no restart. Returns the store's warnings."""
        from planatlas.layers import store as st

        self.stop()
        self._store = None
        st.reset()
        fresh, notices = load_atlas_noting(reload=True)
        atlas = self.win.atlas
        atlas.__dict__.pop("_places_cache", None)
        for name in ("plans", "features", "links", "versions", "_targets", "_clauses"):
            setattr(atlas, name, getattr(fresh, name))
        self._startup, self._shipped = dict(atlas.features), None
        self.rebuild_scene()
        self.win.canvas.invalidate()
        editing = getattr(self.win, "editing", None)
        if editing is not None:
            editing.plans_changed()
            editing.refresh_undo()
        self.win.site_panel.refresh_rows()
        self.win.refresh_history_layer()
        self.start()
        self.show_notices(notices)
        return notices

    # ------------------------------------------------------------------ applying operations
    def _base(self, fid: str):
        if self._shipped is None:
            try:
                from planatlas.layers.gazetteer import load_features
                self._shipped = {f.id: f for f in load_features()}
            except (OSError, ValueError):
                self._shipped = {}
        return self._shipped.get(fid) or self._startup.get(fid)

    @Slot(list)
    def apply_ops(self, ops: list) -> None:
        from planatlas.layers.store.overlay import placed_feature, with_position

        atlas = self.win.atlas
        changed, structural, notes = [], False, []
        relink = False
        for op in ops:
            if op.kind == "snapshot":              # after an offline spell: placed features gone since
                live = {it.id for it in op.items if it.entity == "feature"}
                for fid in [i for i, f in atlas.features.items() if f.origin == "user" and i not in live]:
                    atlas.features.pop(fid)
                    structural = True
            n = 0
            for it in op.items:
                if it.entity == "plan":
                    structural |= self._apply_plan(it)
                    if op.client != getattr(self._store, "client", None):
                        notes.append(f"{op.user} {op.summary}")
                    continue
                atlas.versions[it.id] = it.version
                meta = {"changed_by": op.user, "changed_at": op.created_at}
                if it.entity == "feature":
                    relink = True
                    if it.after is None:
                        structural |= atlas.features.pop(it.id, None) is not None
                    else:
                        structural |= it.id not in atlas.features
                        atlas.features[it.id] = f = placed_feature(it.id, {**it.after, **meta})
                        changed.append(f)
                else:
                    base = self._base(it.id)
                    if base is None:
                        continue
                    f = base if it.after is None else with_position(base, {**it.after, **meta})
                    atlas.features[it.id] = f
                    changed.append(f)
                n += 1
            if op.kind != "snapshot" and op.client != getattr(self._store, "client", None):
                notes.append(tr("store.live", who=op.user, what=op.summary, n=n))
        if (relink or structural) and hasattr(atlas, "relink"):
            atlas.relink()                 # placed, renamed, deleted: the clauses follow at once
        if structural:
            self.rebuild_scene()
        elif changed:
            self.win.state.scene.replace_features(changed)
        self.win.site_panel.refresh_rows()
        self.win.canvas.invalidate()
        self.win.refresh_history_layer()
        if notes:
            self.win.statusBar().showMessage(" · ".join(notes[-3:]), 15000)
        self.opsApplied.emit(ops)

    def _apply_plan(self, item) -> bool:
        """An imported plan arrived (an import, its redo, a colleague's) or left (undone,
        removed): the atlas gains or loses it. True if the atlas changed."""
        atlas = self.win.atlas
        if not hasattr(atlas, "add_plan"):
            return False
        if item.after is None:
            return atlas.remove_plan(item.id) is not None
        from planatlas.layers.catalog import stored_plan
        from planatlas.layers.store.geom import BadValue

        try:
            atlas.add_plan(stored_plan(self.store, item.id, item.after))
        except (PlanAtlasError, BadValue) as exc:
            self.win.statusBar().showMessage(f"{item.id}: {exc}", 15000)
            return False
        return True

    def rebuild_scene(self) -> None:
        """Features or plans were added or removed: a new scene; the layer stack (visibility,
        styles, order) is kept, gains the layers of a plan it did not have and loses those of
        a plan that is gone."""
        from planatlas.desktop.render import MapScene

        old = self.win.state.scene
        new = MapScene.from_atlas(self.win.atlas)
        new.set_selection(old.selection)
        stack = self.win.state.stack
        with stack.batch():
            for layer in new.default_stack():
                if layer.id not in stack:
                    stack.add(layer)
            for layer in list(stack):
                if layer.kind == "plan_category" and layer.source.get("plan") not in new.plans:
                    stack.remove(layer.id)
        self.win.state.scene = new
        self.win.canvas.scene = new
        self.win.layers_panel.rebuild()
        m = self.win.site_panel.model              # the site list follows the new feature set
        m.beginResetModel()
        m.ids = list(new.ids)
        m.rows = [self.win.atlas.features[i] for i in m.ids]
        m.row_of = {fid: r for r, fid in enumerate(m.ids)}
        m.endResetModel()

    # ------------------------------------------------------------------ edits from the window
    def _write(self, fn, *args, retry=None, refuse_conflicts=False, **kwargs):
        from planatlas.layers.store import ConflictError

        try:
            op = fn(*args, **kwargs)
        except ConflictError as exc:
            if refuse_conflicts:                    # an undo/redo: say why, nothing to choose
                self.apply_ops([self._theirs(c) for c in exc.conflicts])
                self._refuse(str(exc))
            else:
                self._conflict(exc, retry)
            return None
        except PlanAtlasError as exc:
            self._refuse(str(exc))
            return None
        self.apply_ops([op])
        return op

    def _refuse(self, reason: str) -> None:
        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QMessageBox

        self.last_refusal = reason
        box = QMessageBox(QMessageBox.Warning, "PlanAtlas", tr("store.refused", why=reason), parent=self.win)
        box.setTextFormat(Qt.PlainText)
        box.open()
        self.refusal_box = box
        self.refused.emit(reason)

    def place(self, name: str, geometry, plan: str, category: str, precision_m: float = 50.0,
              source: str = "placed on the map", *, aliases=None):
        return self._write(self.store.place_feature, name, geometry, plan, category, precision_m, source,
                           aliases=aliases)

    def move(self, feature_id: str, geometry, *, base_version: int | None = None):
        base = self.win.atlas.versions.get(feature_id, 0) if base_version is None else base_version
        return self._write(self.store.move_feature, feature_id, geometry, base_version=base,
                           name=getattr(self.win.atlas.features.get(feature_id), "name", None),
                           retry=lambda v: self.move(feature_id, geometry, base_version=v))

    def edit(self, feature_id: str, *, base_version: int | None = None, **changes):
        """Change name, aliases, category, precision_m … of a placed feature."""
        base = self.win.atlas.versions.get(feature_id, 0) if base_version is None else base_version
        return self._write(self.store.edit_feature, feature_id, base_version=base,
                           retry=lambda v: self.edit(feature_id, base_version=v, **changes), **changes)

    def delete(self, feature_id: str, *, base_version: int | None = None):
        base = self.win.atlas.versions.get(feature_id, 0) if base_version is None else base_version
        return self._write(self.store.delete_feature, feature_id, base_version=base,
                           retry=lambda v: self.delete(feature_id, base_version=v))

    def undo(self):
        return self._write(self._undo_redo, False, refuse_conflicts=True)

    def redo(self):
        return self._write(self._undo_redo, True, refuse_conflicts=True)

    def _undo_redo(self, redo: bool):
        """The store's undo/redo; the returned record's items hold the states now current."""
        return self.store.redo() if redo else self.store.undo()

    @staticmethod
    def _theirs(conflict):
        """A pseudo-operation putting the store's current value of a conflicting item on the map."""
        from planatlas.layers.store import Item, OpRecord

        item = Item(conflict["entity"], conflict["id"], None, conflict.get("theirs"),
                    version=int(conflict["version"]))
        return OpRecord("conflict", "move", conflict.get("by") or "", conflict.get("at") or "",
                        summary=f"changed {conflict.get('name') or conflict['id']}", client="",
                        items=[item] if conflict["version"] >= 0 else [])

    def _conflict(self, exc, retry) -> None:
        from planatlas.desktop.store_dialog import ConflictDialog

        self.apply_ops([self._theirs(c) for c in exc.conflicts])       # the map shows the truth
        dlg = ConflictDialog(exc, parent=self.win)
        self.last_conflict = dlg

        def done(_result: int) -> None:
            if dlg.choice == "mine" and retry is not None and exc.conflicts:
                retry(exc.conflicts[0]["version"])
        dlg.finished.connect(done)
        dlg.open()
        self.conflictShown.emit(dlg)


def load_atlas_noting(reload: bool = False):
    """The atlas, and the store's warnings met while loading it (quarantine, offline, …);
    ``reload``: read it again (the store choice changed)."""
    import warnings

    from planatlas.layers.atlas import load_atlas
    from planatlas.layers.store import StoreWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", StoreWarning)
        atlas = load_atlas(reload=reload)
    return atlas, list(dict.fromkeys(str(w.message) for w in caught if issubclass(w.category, StoreWarning)))
