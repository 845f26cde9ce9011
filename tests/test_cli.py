"""The planatlas command line: stable JSON, readable tables, importing plans."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from planatlas.desktop.cli import main
from planatlas.layers.catalog import load_plans

SEEDS = Path(__file__).resolve().parents[1] / "seeds"


def run_json(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)


def test_plans_json(capsys, datadir):
    plans = run_json(capsys, "plans", "--json")
    assert [p["id"] for p in plans] == ["binhai", "zhongshan", "haimen", "xiqing", "guangzhou"]
    gz = plans[-1]
    assert gz["region"]["adcode"] == "440100" and gz["period"] == {"start": 2021, "end": 2025}
    assert gz["counts"]["clauses"] > 40 and gz["counts"]["targets"] > 0


def test_clauses_json_has_cited_lines(capsys, datadir):
    clauses = run_json(capsys, "clauses", "guangzhou", "--json")
    c = next(c for c in clauses if c["id"] == "guangzhou:二.(二).5")
    assert c == {**c, "number": "5.", "heading": "建设国际知名商圈", "parent": "guangzhou:二.(二)",
                 "level": 3, "lines": [75, 77]}
    assert isinstance(c["lines"][0], int)


def test_targets_json_numbers(capsys, datadir):
    targets = run_json(capsys, "targets", "binhai", "--json")
    t = targets[0]
    assert t["id"] == "binhai:t001" and t["kind"] == "target"
    assert t["value"] == 1500 and isinstance(t["value"], float) and t["line"] == 26
    assert {"indicator", "year", "comparator", "unit", "scope", "clause", "surface", "upper"} <= set(t)


def test_targets_all_includes_baselines(capsys, datadir):
    assert not any(t["kind"] == "baseline" for t in run_json(capsys, "targets", "zhongshan", "--json"))
    assert any(t["kind"] == "baseline" for t in run_json(capsys, "targets", "zhongshan", "--all", "--json"))


def test_search_json_finds_clauses(capsys, datadir):
    hits = run_json(capsys, "search", "永庆坊", "--json")
    clause_hits = [h for h in hits if h["type"] == "clause"]
    assert clause_hits[0]["clause"] == "guangzhou:二.(二).5"
    assert clause_hits[0]["lines"] == [75, 77] and "永庆坊" in clause_hits[0]["snippet"]


def test_readable_tables(capsys, datadir):
    assert main(["targets", "haimen"]) == 0
    out = capsys.readouterr().out
    assert "新增规模以上服务业企业" in out and out.splitlines()[1].startswith("----")


def test_unknown_plan_is_a_clear_error(capsys, datadir):
    assert main(["clauses", "nowhere"]) == 2
    assert "unknown plan 'nowhere'" in capsys.readouterr().err


def test_import_plan_then_every_command_sees_it(capsys, datadir, tmp_path):
    src = tmp_path / "copy.txt"
    # a plan of the same genre in GBK: not a seed, no special case
    src.write_bytes((SEEDS / "003_b41deb7bd8aec23f.txt").read_text(encoding="utf-8").encode("gbk"))
    summary = run_json(capsys, "import-plan", str(src), "--id", "xiqing-copy", "--title", "西青副本",
                       "--district", "西青区", "--adcode", "120111", "--json")
    assert summary["origin"] == "user" and summary["period"] == {"start": 2023, "end": 2027}
    from planatlas.layers.store import current_store
    rec = current_store().plan_records()["xiqing-copy"]        # kept as given, in the user store
    assert current_store().plan_text(rec["text_sha256"]) == src.read_bytes()
    assert rec["title"] == "西青副本" and rec["district"] == "西青区" and rec["version"] == 1
    ids = [p["id"] for p in run_json(capsys, "plans", "--json")]
    assert ids[-1] == "xiqing-copy"
    clauses = run_json(capsys, "clauses", "xiqing-copy", "--json")
    assert clauses[4]["id"] == "xiqing-copy:二.(一).1" and clauses[4]["lines"] == [34, 56]
    hits = run_json(capsys, "search", "姚村夜市", "--json")
    assert {"xiqing", "xiqing-copy"} <= {h["plan"] for h in hits if h["type"] == "clause"}


@pytest.mark.parametrize("content,message", [
    (b"", "empty"),
    (b"\x00\x00binary", "binary"),
    ("只有一句话，没有编号结构。".encode("utf-8"), "no numbered structure"),
])
def test_import_rejects_bad_files_and_writes_nothing(capsys, datadir, tmp_path, content, message):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(content)
    assert main(["import-plan", str(bad), "--id", "bad", "--period", "2023-2025"]) == 2
    assert message in capsys.readouterr().err
    from planatlas.layers.store import current_store
    assert current_store().plan_records() == {} and current_store().last_seq() == 0


def test_import_refuses_seed_ids(capsys, datadir, tmp_path):
    assert main(["import-plan", str(SEEDS / "000_cf10547c2a3ea135.txt"), "--id", "binhai"]) == 2
    assert "seed plan" in capsys.readouterr().err


def test_console_entry_point_help_runs_in_a_subprocess():
    out = subprocess.run([sys.executable, "-m", "planatlas", "--help"], capture_output=True, text=True,
                         timeout=120, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert out.returncode == 0 and "import-plan" in out.stdout and "targets" in out.stdout
