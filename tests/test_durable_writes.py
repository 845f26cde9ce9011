"""Every command that writes a file: full disk and read-only folder exit 1 with one line and keep
the previous file byte-identical; no temporary file is left; killed runs are cleaned up later.

A real small tmpfs is used when this process may mount one (root in a container); otherwise a
full disk is a file-size limit (RLIMIT_FSIZE: every write past the limit fails with EFBIG, in
Qt, GDAL and SQLite alike) and a read-only folder is ``chmod 0555`` (skipped for root without
mount, who ignores permissions).
"""
from __future__ import annotations

import contextlib
import csv
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from planatlas.desktop.cli import main
from planatlas.layers import fsutil


def _try_mount(where: Path, size: str) -> bool:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0777", "tmpfs", str(where)],
                       capture_output=True)
    return r.returncode == 0


class SmallDisk:
    """A folder that can be made full or read-only."""

    def __init__(self, root: Path):
        self.path = root / "disk"
        self.path.mkdir()
        self.mounted = _try_mount(self.path, "4m")

    @contextlib.contextmanager
    def full(self, free: int):
        """Leave about ``free`` bytes writable during the block."""
        if self.mounted:
            st = os.statvfs(self.path)
            filler = self.path / "filler.bin"
            avail = st.f_bavail * st.f_frsize
            with open(filler, "wb") as fh:
                fh.write(b"\0" * max(avail - free, 0))
            try:
                yield
            finally:
                filler.unlink()
        else:
            old = resource.getrlimit(resource.RLIMIT_FSIZE)
            old_sig = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (max(free, 1), old[1]))
            try:
                yield
            finally:
                resource.setrlimit(resource.RLIMIT_FSIZE, old)
                signal.signal(signal.SIGXFSZ, old_sig)

    @contextlib.contextmanager
    def readonly(self):
        if self.mounted:
            subprocess.run(["mount", "-o", "remount,ro", str(self.path)], check=True)
            try:
                yield
            finally:
                subprocess.run(["mount", "-o", "remount,rw", str(self.path)], check=True)
        else:
            if os.geteuid() == 0:
                pytest.skip("root without mount: a chmod'ed folder is still writable")
            self.path.chmod(0o555)
            try:
                yield
            finally:
                self.path.chmod(0o755)

    def close(self):
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.path)], capture_output=True)


@pytest.fixture
def disk(tmp_path):
    d = SmallDisk(tmp_path)
    yield d
    d.close()


@pytest.fixture(scope="module")
def survey_csv(tmp_path_factory):
    from planatlas.layers.atlas import load_atlas
    from planatlas.layers.survey import feature_anchor

    at = load_atlas()
    path = tmp_path_factory.mktemp("survey") / "survey.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["名称", "经度", "纬度"])
        for f in at.features_for(plans=["guangzhou"]):
            lon, lat = feature_anchor(f)
            w.writerow([f.name, f"{lon:.6f}", f"{lat:.6f}"])
    return path


def _commands(survey: Path) -> dict[str, list[str]]:
    """Output name -> argv writing it (the output path is appended by the test)."""
    cmds = {f"sites.{fmt}": ["export", "data", "--plan", "guangzhou", "--format", fmt, "--out"]
            for fmt in ("geojson", "gpkg", "kml", "kmz", "gpx", "csv", "xlsx")}
    cmds["map.html"] = ["export", "html", "--plan", "guangzhou", "--out"]
    for fmt in ("png", "svg", "pdf"):
        cmds[f"map.{fmt}"] = ["export", "map", "--plan", "guangzhou", "--paper", "900x600px",
                              "--out"]
    cmds["report.csv"] = ["check-sites", str(survey), "--plan", "guangzhou", "--report"]
    cmds["report.xlsx"] = ["check-sites", str(survey), "--plan", "guangzhou", "--report"]
    cmds["list.pdf"] = ["sitelist", "--plan", "guangzhou", "--out"]
    cmds["list.xlsx"] = ["sitelist", "--plan", "guangzhou", "--out"]
    cmds["shot.png"] = ["screenshot", "--plan", "binhai", "--size", "400x300", "--out"]
    return cmds


OUTPUTS = sorted(_commands(Path("survey.csv")))


def _run(argv, capsys):
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.err


def _assert_failed_cleanly(code, err, folder: Path, out: Path, before: bytes, keep=()):
    assert code == 1, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert "cannot write" in err and str(out) in err, err
    assert out.read_bytes() == before
    left = sorted(p.name for p in folder.iterdir() if p.name not in (out.name, *keep))
    assert left == [], left


@pytest.mark.parametrize("name", OUTPUTS)
def test_full_disk_keeps_the_previous_file(name, disk, survey_csv, capsys):
    """Every output of these commands is over 8 kB: the disk fills up while it is written."""
    argv = _commands(survey_csv)[name]
    out = disk.path / name
    before = b"previous file " * 20
    out.write_bytes(before)
    with disk.full(free=8192):
        code, err = _run([*argv, str(out)], capsys)
    _assert_failed_cleanly(code, err, disk.path, out, before, keep=("filler.bin",))


@pytest.mark.parametrize("name", OUTPUTS)
def test_read_only_folder_keeps_the_previous_file(name, disk, survey_csv, capsys):
    argv = _commands(survey_csv)[name]
    out = disk.path / name
    before = b"previous file"
    out.write_bytes(before)
    with disk.readonly():
        code, err = _run([*argv, str(out)], capsys)
    _assert_failed_cleanly(code, err, disk.path, out, before)


def test_outputs_get_the_umask_not_0600(tmp_path, capsys, survey_csv):
    old = os.umask(0o027)
    try:
        fsutil._UMASK = None
        for name in ("sites.csv", "list.xlsx", "report.csv"):
            code, err = _run([*_commands(survey_csv)[name], str(tmp_path / name)], capsys)
            assert code == 0, err
            assert (tmp_path / name).stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(old)
        fsutil._UMASK = None


def test_import_plan_into_a_read_only_or_full_data_dir(disk, capsys, monkeypatch, tmp_path):
    from planatlas.layers import atlas, catalog

    monkeypatch.setenv("PLANATLAS_DATA_DIR", str(disk.path / "data"))
    (disk.path / "data").mkdir()
    src = tmp_path / "plan.txt"
    src.write_text("某区促进消费三年行动方案（2024-2026年）\n一、总体要求\n到2026年，社会消费品零售总额达到500亿元。\n"
                   + "二、重点任务\n" + "（一）建设商圈。打造特色商业街区3个。\n" * 400, encoding="utf-8")
    with disk.readonly():
        code, err = _run(["import-plan", str(src), "--id", "rotest"], capsys)
    assert code == 1 and err.count("\n") == 1, err
    with disk.full(free=4096):
        code, err = _run(["import-plan", str(src), "--id", "fulltest"], capsys)
    assert code == 1 and err.count("\n") == 1, err
    catalog._parse_cached.cache_clear()
    atlas._CACHE.clear()
    code, err = _run(["plans", "--json"], capsys)
    assert code == 0, err


# ----------------------------------------------------------------------------- leftovers, kill -9

def test_leftovers_of_dead_writers_are_cleaned_and_live_ones_kept(tmp_path):
    live = fsutil.DurableTemp(tmp_path / "a.gpkg")
    (live.path.with_name(live.path.name + "-journal")).write_bytes(b"j")
    # a dead writer: temp, journal and an unlocked lock file
    dead = tmp_path / ".b.gpkg.abcd1234.part.gpkg"
    for p in (dead, Path(f"{dead}-journal"), Path(f"{dead}.lock")):
        p.write_bytes(b"x")
    # an old release's temp without lock, two hours old; and a fresh one (may be running)
    old = tmp_path / ".c.csv.zzzz9999.part.csv"
    old.write_bytes(b"x")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    fresh = tmp_path / ".d.csv.yyyy8888.part.csv"
    fresh.write_bytes(b"x")
    lookalike = tmp_path / ".notes.part.txt"
    lookalike.write_bytes(b"mine")
    removed = {p.name for p in fsutil.clean_leftovers(tmp_path)}
    assert removed == {dead.name, f"{dead.name}-journal", f"{dead.name}.lock", old.name}
    assert live.path.with_name(live.path.name + "-journal").exists() and live.lock.exists()
    assert fresh.exists() and lookalike.exists()
    live.discard()
    assert not live.lock.exists()


def _wait_for_temp(folder: Path, proc, timeout=120.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:
        if any(".part" in p.name for p in folder.iterdir()):
            return True
        time.sleep(0.002)
    return False


@pytest.mark.parametrize("fmt,delay", [("gpkg", 0.0), ("xlsx", 0.02), ("pdf", 0.05)])
def test_kill_9_while_writing_leaves_no_partial_file(tmp_path, fmt, delay):
    """Killed while the temporary file exists: the target keeps its old bytes (or is the complete
    new file, when the kill came after the rename); the next run cleans the dead run's temporary
    file, lock and journal."""
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / f"x.{fmt}"
    out.write_bytes(b"old")
    if fmt == "pdf":
        argv = ["sitelist", "--plan", "guangzhou", "--out", str(out)]
    else:
        argv = ["export", "data", "--plan", "guangzhou",
                "--format", fmt, "--out", str(out)]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.Popen([sys.executable, "-m", "planatlas", *argv], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        hit = _wait_for_temp(folder, proc)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(60)
    if not hit:
        pytest.skip("the writer finished before it could be killed")
    assert out.read_bytes() == b"old" or _complete(out)         # never a partial file
    rerun = subprocess.run([sys.executable, "-m", "planatlas", *argv], env=env, capture_output=True,
                           text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    beside = [out.with_suffix(".qgz").name] if fmt == "gpkg" else []     # its QGIS project
    assert sorted(p.name for p in folder.iterdir()) == sorted([out.name, *beside])


def _complete(path: Path) -> bool:
    from planatlas.layers.filecheck import check_output

    try:
        check_output(path)
        return True
    except Exception:  # noqa: BLE001
        return False
