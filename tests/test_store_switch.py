"""File › Team store… switches the open window to the chosen store at once (no restart): the
map, the site list and the lists show the team's places; back to the embedded store, they go."""
from __future__ import annotations

import pytest
import shapely
from PySide6.QtCore import QSettings

from planatlas.layers import store
from store_fixtures import _reset, new_pg_store, pg  # noqa: F401 - fixtures

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_team_store_dialog_switches_the_window_without_restart(qtbot, pg, tmp_path, monkeypatch):  # noqa: F811
    from planatlas.desktop.app import MainWindow
    from planatlas.desktop.store_dialog import StoreDialog
    from planatlas.layers.atlas import load_atlas

    monkeypatch.setenv("PLANATLAS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PLANATLAS_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "pgpass"))
    monkeypatch.delenv("PLANATLAS_STORE", raising=False)
    _reset()
    url = new_pg_store(pg)
    team = store.open_store(url)
    fid = team.place_feature("团队新增商圈", shapely.Point(113.3330, 23.1310), "guangzhou",
                             "commercial_district", 80.0).ids[0]
    team.close()
    try:
        win = MainWindow(load_atlas(reload=True),
                         settings=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
        qtbot.addWidget(win)
        win.resize(1000, 700)
        win.show()
        qtbot.waitExposed(win)
        assert fid not in win.atlas.features                 # the embedded store is empty

        dlg = StoreDialog(win)
        qtbot.addWidget(dlg)
        dlg.url.setText(url)
        dlg.use_button.click()
        assert "已切换到" in dlg.result.text(), dlg.result.text()
        assert win.atlas.features[fid].name == "团队新增商圈"
        assert fid in win.state.scene.index                  # on the map
        assert fid in win.site_panel.model.ids               # in the site list
        assert win.store_link.store.kind == "postgis"        # the window now writes to the team

        dlg.embedded_button.click()
        assert "已切换到" in dlg.result.text()
        assert fid not in win.atlas.features and fid not in win.state.scene.index
        assert fid not in win.site_panel.model.ids
        assert win.store_link.store.kind == "gpkg"
    finally:
        _reset()
