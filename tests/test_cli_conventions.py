"""One CLI package, one error convention: every command's bad input is one line and exit code 2."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from planatlas.desktop import cli
from planatlas.desktop.cli import main


@pytest.fixture(autouse=True)
def _fresh_data_dir(datadir):
    """Every test here runs on an empty data directory (conftest's ``datadir``)."""
    return datadir


def test_version(capsys):
    from planatlas import __version__
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out.strip() == f"planatlas {__version__}"


def test_help_and_help_command(capsys):
    assert main(["help"]) == 0
    out = capsys.readouterr().out
    for cmd in ("plans", "import-plan", "check-sites", "export", "app", "screenshot", "help"):
        assert cmd in out
    assert main(["help", "export", "map"]) == 0
    assert "--paper" in capsys.readouterr().out
    assert main(["help", "nosuch"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no command 'nosuch'" in err


def test_python_m_planatlas_help():
    out = subprocess.run([sys.executable, "-m", "planatlas", "--help"], capture_output=True,
                         text=True, timeout=120, cwd="/")
    assert out.returncode == 0 and "import-plan" in out.stdout


BAD_INPUT = [
    ["plans", "--bogus"],
    ["clauses", "nowhere"],
    ["targets"],
    ["search"],
    ["import-plan", "/no/such/file.txt", "--id", "x1"],
    ["import-plan", __file__, "--id", "Bad Id"],
    ["features", "--plan", "nowhere"],
    ["features", "--category", "nothing"],
    ["feature", "no-such-feature-xyz"],
    ["unlocated", "nowhere"],
    ["check-sites", "/no/such/survey.csv"],
    ["check-sites", __file__, "--tolerance-m", "-5"],
    ["accept-survey", "/no/such/survey.csv"],
    ["sitelist", "--plan", "nowhere", "--out", "x.xlsx"],
    ["sitelist", "--plan", "binhai", "--out", "x.doc"],
    ["export", "data", "--plan", "nowhere", "--format", "csv", "--out", "x.csv"],
    ["export", "data", "--plan", "binhai", "--format", "shp", "--out", "x.shp"],
    ["export", "html", "--plan", "binhai"],
    ["export", "map", "--plan", "binhai", "--paper", "B7", "--out", "x.png"],
    ["export", "nothing"],
    ["screenshot", "--plan", "binhai", "--size", "huge", "--out", "x.png"],
    ["app", "--lang", "fr"],
    ["nosuchcommand"],
]


@pytest.mark.parametrize("argv", BAD_INPUT, ids=lambda a: " ".join(a)[:40])
def test_bad_input_is_one_line_and_exit_2(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    try:
        code = main(argv)
    except SystemExit as e:          # argparse usage errors exit through SystemExit
        code = e.code
    captured = capsys.readouterr()
    assert code == 2, captured
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("planatlas") and "error" in lines[0]
    assert "Traceback" not in captured.err
    assert list(tmp_path.iterdir()) == []          # nothing written


def test_failed_operation_is_exit_1(capsys, tmp_path, monkeypatch):
    import errno

    from planatlas.layers import sitelist

    def full_disk(_features, out, **_kw):
        raise OSError(errno.ENOSPC, "No space left on device", str(out))
    monkeypatch.setattr(sitelist, "write_sitelist_xlsx", full_disk)
    code = main(["sitelist", "--plan", "binhai", "--out", str(tmp_path / "x.xlsx")])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "No space left on device" in err


def test_internal_errors_have_no_traceback(capsys, monkeypatch):
    from planatlas.desktop.cli import plans

    def boom(_args):
        raise RuntimeError("something broke")
    monkeypatch.setattr(plans, "cmd_plans", boom)
    assert main(["plans"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error" in err and "Traceback" not in err


def test_app_options_reach_the_app(monkeypatch):
    seen = {}
    import planatlas.desktop.app as app_mod

    monkeypatch.setattr(app_mod, "main", lambda **kw: seen.update(kw) or 0)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert main(["app", "--reset", "--lang", "en", "--plan", "xiqing"]) == 0
    assert seen == {"plan": "xiqing", "lang": "en", "reset": True, "layers": [], "project": None}
    seen.clear()
    assert main(["--lang", "zh"]) == 0               # no command: the app, with its options
    assert seen == {"plan": None, "lang": "zh", "reset": False, "layers": [], "project": None}
    seen.clear()
    assert main(["--layer", __file__, "--project", __file__]) == 0
    assert seen["layers"] == [__file__] and seen["project"] == __file__
    assert main(["--layer", "/nonexistent/x.gpkg"]) == 2 and not seen.get("x")


def test_no_display_is_one_line_naming_what_to_do():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY",
                                                             "QT_QPA_PLATFORM")}
    out = subprocess.run([sys.executable, "-m", "planatlas", "app"], capture_output=True,
                         text=True, timeout=120, env=env)
    assert out.returncode == 1
    assert out.stderr.count("\n") == 1 and "xvfb" in out.stderr


def test_missing_x11_libraries_are_named_with_their_packages(monkeypatch):
    from planatlas.desktop.cli import app as app_cli

    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.setattr(app_cli, "_missing_xcb_libraries",
                        lambda: ["libxcb-cursor.so.0", "libxcb-icccm.so.4"])
    msg = app_cli.display_problem()
    assert "apt-get install libxcb-cursor0 libxcb-icccm4" in msg


def test_every_command_module_registers_through_one_parser():
    parser = cli.build_parser()
    sub = parser._planatlas_sub
    assert {"plans", "clauses", "targets", "search", "import-plan", "features", "feature",
            "unlocated", "validate", "check-sites", "accept-survey", "undo-accept", "sitelist",
            "export", "app", "screenshot", "help"} <= set(sub.choices)
