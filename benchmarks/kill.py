"""Kill writers with SIGKILL at random moments: ``python benchmarks/kill.py [TRIALS]``.

Each trial starts a writing command (data exports in every format, the HTML map, a PDF site
list, an XLSX report) over an existing output file, kills it with ``kill -9`` after a random
delay, and then looks at the folder: is the output the old file or a complete new one (never a
partial file)? Are there temporary files? After a second, normal run into the same folder: are
the dead run's leftovers gone? Prints the counts; asserts nothing.
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

COMMANDS = {
    **{f"x.{fmt}": ["export", "data", "--plan", "guangzhou,xiqing", "--format", fmt, "--out"]
       for fmt in ("gpkg", "xlsx", "kmz", "gpx", "geojson", "csv")},
    "x.html": ["export", "html", "--plan", "guangzhou", "--out"],
    "x.pdf": ["sitelist", "--plan", "guangzhou", "--out"],
}


def main() -> int:
    from planatlas.layers.filecheck import check_output

    trials = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    rng = random.Random(7)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    counts = {"killed": 0, "finished first": 0, "old file kept": 0, "complete new file": 0,
              "partial file": 0, "left temp files": 0, "cleaned by next run": 0}
    with tempfile.TemporaryDirectory(prefix="planatlas-kill-") as tmp:
        for i in range(trials):
            name = rng.choice(sorted(COMMANDS))
            folder = Path(tmp) / f"t{i}"
            folder.mkdir()
            out = folder / name
            out.write_bytes(b"old")
            argv = [sys.executable, "-m", "planatlas", *COMMANDS[name], str(out)]
            proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            end = time.monotonic() + 30
            while time.monotonic() < end and proc.poll() is None and \
                    not any(".part" in p.name for p in folder.iterdir()):
                time.sleep(0.002)                        # until the writer has a temp file
            time.sleep(rng.uniform(0, 0.3))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                counts["killed"] += 1
            else:
                counts["finished first"] += 1
            proc.wait()
            data = out.read_bytes()
            if data == b"old":
                counts["old file kept"] += 1
            else:
                try:
                    check_output(out)
                    counts["complete new file"] += 1
                except Exception:  # noqa: BLE001
                    counts["partial file"] += 1
            if any(p.name != name for p in folder.iterdir()):
                counts["left temp files"] += 1
                subprocess.run(argv, env=env, capture_output=True, timeout=300)
                if sorted(p.name for p in folder.iterdir()) == [name]:
                    counts["cleaned by next run"] += 1
    print(f"{trials} trials over {', '.join(sorted(COMMANDS))}")
    for k, v in counts.items():
        print(f"  {k:<22}{v:>5}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
