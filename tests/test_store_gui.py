"""Two app windows on one PostGIS (pytest-qt): a feature placed in one appears in the other
within 5 s; moving the same feature in both at once shows a conflict with both values; the
team-store dialog tests connections without freezing and never keeps the password."""
from __future__ import annotations

import pytest
import shapely
from PySide6.QtCore import QSettings

from desktop_fixture import SyntheticAtlas
from planatlas.layers import store
from planatlas.layers.store.config import add_pgpass, with_user
from store_fixtures import _reset, new_pg_store, pg  # noqa: F401 - fixtures

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
PA, PB = shapely.Point(113.3330, 23.1310), shapely.Point(113.3360, 23.1290)


@pytest.fixture()
def team_env(pg, tmp_path, monkeypatch):
    monkeypatch.setenv("PLANATLAS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PLANATLAS_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "pgpass"))
    url = new_pg_store(pg)
    monkeypatch.setenv("PLANATLAS_STORE", url)
    _reset()
    yield url
    _reset()


def _window(qtbot, tmp_path, name):
    from planatlas.desktop.app import MainWindow

    w = MainWindow(SyntheticAtlas(), settings=QSettings(str(tmp_path / f"{name}.ini"), QSettings.IniFormat))
    qtbot.addWidget(w)
    w.resize(1000, 700)
    w.show()
    qtbot.waitExposed(w)
    w.frame_plan("guangzhou")
    return w


def test_two_windows_see_each_other_and_conflicts_are_visible(qtbot, team_env, tmp_path):
    w1, w2 = _window(qtbot, tmp_path, "a"), _window(qtbot, tmp_path, "b")
    assert w1.store_link._thread is not None and w1.store_link._thread.isRunning()
    op = w1.store_link.place("会展新商圈", shapely.Point(113.3345, 23.1300), "guangzhou",
                             "commercial_district", 20)
    fid = op.ids[0]
    assert fid in w1.state.scene.index and w1.atlas.versions[fid] == 1
    qtbot.waitUntil(lambda: fid in w2.state.scene.index, timeout=5000)        # within 5 s
    assert w2.atlas.features[fid].name == "会展新商圈" and w2.atlas.versions[fid] == 1
    assert w2.state.feature_layer(fid) is not None            # drawn in a visible layer
    assert "会展新商圈" in w2.statusBar().currentMessage()
    w2.grab().save(str(tmp_path / "window-b.png"))
    # both move it before either hears of the other: the second one meets a conflict
    assert w1.store_link.move(fid, PA) is not None
    assert w2.store_link.move(fid, PB) is None
    dlg = w2.store_link.last_conflict
    assert dlg is not None and dlg.isVisible()
    mine, theirs = dlg.table.item(1, 0).text(), dlg.table.item(1, 1).text()
    assert mine == f"{PB.x:.6f}, {PB.y:.6f}" and theirs == f"{PA.x:.6f}, {PA.y:.6f}"
    assert w2.atlas.features[fid].geometry.equals(PA)          # the map shows the stored value
    dlg.grab().save(str(tmp_path / "conflict.png"))
    dlg.mine_button.click()                                     # "use mine": saved over version 2
    qtbot.waitUntil(lambda: w2.atlas.versions.get(fid) == 3, timeout=5000)
    assert store.open_store().user_features()[fid]["geometry"].equals(PB)
    qtbot.waitUntil(lambda: w1.atlas.features[fid].geometry.equals(PB), timeout=5000)
    w1.grab().save(str(tmp_path / "window-a.png"))


def test_store_dialog_tests_in_a_thread_and_keeps_no_password(qtbot, team_env, pg, tmp_path):
    from planatlas.desktop.store_dialog import StoreDialog

    pg.create_login("dora", "dora-pw")
    url = with_user(team_env, "dora")
    dlg = StoreDialog()
    qtbot.addWidget(dlg)
    dlg.url.setText(url)
    dlg.password.setText("wrong")
    with qtbot.waitSignal(dlg.tested, timeout=15000) as got:
        dlg.test_connection()
    assert "authentication failed" in got.args[0] and "wrong" not in got.args[0]
    dlg.password.setText("dora-pw")
    with qtbot.waitSignal(dlg.tested, timeout=15000) as got:
        dlg.test_connection()
    assert "has no access" in got.args[0] and "--viewer dora" in got.args[0]
    pg.sql('GRANT planatlas_viewer TO dora', db=team_env.rsplit("/", 1)[1])
    with qtbot.waitSignal(dlg.tested, timeout=15000) as got:
        dlg.test_connection()
    assert got.args[0].startswith("connected") and "as dora" in got.args[0] and "role viewer" in got.args[0]
    dlg.save_pgpass.setChecked(True)
    dlg.use_team()
    saved = (tmp_path / "config" / "store.toml").read_text()
    assert "dora-pw" not in saved and url in saved
    assert "dora-pw" in (tmp_path / "pgpass").read_text()
    dlg.url.setText("postgresql://dora@127.0.0.1:9/nowhere")
    with qtbot.waitSignal(dlg.tested, timeout=15000) as got:
        dlg.test_connection()
    assert "unreachable" in got.args[0]
    add_pgpass(url, "dora-pw")


def test_window_works_offline_and_syncs_when_the_server_is_back(qtbot, team_env, pg, tmp_path, monkeypatch):
    from pgcluster import TcpProxy

    proxy = TcpProxy(pg.port)
    field = team_env.replace(f":{pg.port}/", f":{proxy.port}/")
    monkeypatch.setenv("PLANATLAS_STORE", field)
    monkeypatch.setenv("PLANATLAS_CONNECT_TIMEOUT", "2")
    _reset()
    from planatlas.layers.store import sync
    sync.sync(field)                                           # the laptop's copy, taken online
    proxy.down()
    _reset()
    with pytest.warns(store.StoreWarning, match="working offline"):
        w = _window(qtbot, tmp_path, "field")
    assert getattr(w.store_link.store, "offline", False)
    op = w.store_link.place("野外新点", PA, "guangzhou", "scenic_area", 15)      # queued offline
    assert op is not None and op.ids[0] in w.state.scene.index
    server = store.open_store(team_env)
    assert op.ids[0] not in server.user_features()
    proxy.up()                                                 # back in range: the app pushes
    qtbot.waitUntil(lambda: op.ids[0] in server.user_features(), timeout=20000)
    qtbot.waitUntil(lambda: "reachable again" in w.statusBar().currentMessage()
                    or "已重新连接" in w.statusBar().currentMessage(), timeout=5000)
    assert "1 operation(s) pushed" in w.statusBar().currentMessage()
    server.close()
    proxy.down()
