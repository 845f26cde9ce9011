"""Fuzz every reader: ``python benchmarks/fuzz.py [CASES] [--targets plan,csv,...] [--seed S]``.

Runs CASES (default 10,000) generated inputs per target — the plan reader and the survey check
on CSV, XLSX, GPX, KML and KMZ files (generators in ``tests/fuzzcases.py``) — each target in its
own process, and prints per target: inputs accepted, refused with a typed error (expected for
bad input), **tracebacks** (any other exception: a bug), runs over 5 s of CPU time (the machine
is shared, so wall-clock time is noisy; runs over 5 s of wall time are shown too), the slowest
run (CPU), and
the **peak memory** of the reader (the largest peak RSS of any one run, interpreter and libraries
included; the peak is reset before each run, after the input was generated and written). The first
traceback of each kind is printed with the seed that reproduces it
(``python benchmarks/fuzz.py --replay TARGET SEED``). Asserts nothing; prints figures.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

SLOW_S = 5.0
HANG_S = 120


class _Hang(Exception):
    pass


def _alarm(_sig, _frame):
    raise _Hang(f"no result after {HANG_S} s")


def _reset_peak() -> None:
    """Reset the process's peak RSS (Linux ``clear_refs``), so that the peak measured after a
    case is the reader's, not the input generator's."""
    import gc

    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass


def _peak_kb() -> int:
    """Peak RSS (kB) since the last reset (``VmHWM``), else the whole run's (``ru_maxrss``)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def worker(target: str, cases: int, seed: str) -> dict:
    import fuzzcases

    warnings.simplefilter("ignore")
    signal.signal(signal.SIGALRM, _alarm)
    outcome: collections.Counter = collections.Counter()
    kinds: dict[str, dict] = {}
    slow = slow_wall = 0
    peak = 0
    slowest = (0.0, "")
    generate = fuzzcases.TARGETS[target]
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="planatlas-fuzz-") as tmp:
        folder = Path(tmp)
        for i in range(cases):
            case_seed = f"{seed}-{target}-{i}"
            suffix, data = generate(random.Random(case_seed))
            path = fuzzcases.write_case(suffix, data, folder)
            del data
            _reset_peak()
            t = time.perf_counter()
            cpu = time.process_time()
            signal.alarm(HANG_S)
            try:
                outcome[fuzzcases.run_case(target, path)] += 1
            except BaseException as exc:  # noqa: BLE001 - counting them is the point
                if isinstance(exc, KeyboardInterrupt):
                    raise
                outcome["traceback"] += 1
                frame = traceback.extract_tb(exc.__traceback__)[-1]
                key = f"{type(exc).__name__} at {Path(frame.filename).name}:{frame.lineno}"
                kinds.setdefault(key, {"count": 0, "seed": case_seed,
                                       "message": " ".join(str(exc).split())[:200]})["count"] += 1
            finally:
                signal.alarm(0)
            wall = time.perf_counter() - t
            dt = time.process_time() - cpu
            peak = max(peak, _peak_kb())
            slow += dt > SLOW_S
            slow_wall += wall > SLOW_S
            if dt > slowest[0]:
                slowest = (dt, case_seed)
    return {"target": target, "cases": cases, "ok": outcome["ok"], "refused": outcome["refused"],
            "tracebacks": outcome["traceback"], "over_5s": slow, "over_5s_wall": slow_wall,
            "slowest_s": round(slowest[0], 2), "slowest_seed": slowest[1],
            "peak_mb": round((peak or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024),
            "total_s": round(time.perf_counter() - start, 1), "kinds": kinds}


def replay(target: str, case_seed: str) -> None:
    import fuzzcases

    suffix, data = fuzzcases.TARGETS[target](random.Random(case_seed))
    out = fuzzcases.write_case(suffix, data, Path(tempfile.mkdtemp(prefix="planatlas-fuzz-")))
    print(f"input ({len(data):,} bytes) written to {out}")
    t = time.perf_counter()
    print(fuzzcases.run_case(target, out), f"{time.perf_counter() - t:.2f} s")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("cases", nargs="?", type=int, default=10_000)
    ap.add_argument("--targets", default="plan,csv,xlsx,gpx,kml,kmz")
    ap.add_argument("--seed", default="planatlas")
    ap.add_argument("--jobs", type=int, default=1, help="targets run at the same time")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--replay", nargs=2, metavar=("TARGET", "SEED"))
    args = ap.parse_args()
    if args.replay:
        replay(*args.replay)
        return 0
    if args.worker:
        print(json.dumps(worker(args.worker, args.cases, args.seed)))
        return 0
    targets = [t for t in args.targets.split(",") if t]
    print(f"fuzzing {args.cases:,} cases per target (seed {args.seed!r}), {args.jobs} at a time; "
          f"runs over {SLOW_S:g} s and peak RSS are counted per target process")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    pending = list(targets)
    running: list[tuple[str, subprocess.Popen]] = []
    results = []
    while pending or running:
        while pending and len(running) < args.jobs:
            t = pending.pop(0)
            running.append((t, subprocess.Popen(
                [sys.executable, __file__, str(args.cases), "--worker", t, "--seed", args.seed],
                stdout=subprocess.PIPE, text=True, env=env)))
        for item in list(running):
            t, proc = item
            if proc.poll() is not None:
                running.remove(item)
                out = proc.stdout.read().strip().splitlines()
                results.append(json.loads(out[-1]) if proc.returncode == 0 and out else
                               {"target": t, "cases": args.cases, "crashed": proc.returncode})
        time.sleep(0.2)
    print(f"\n{'target':<7}{'cases':>8}{'ok':>8}{'refused':>9}{'tracebacks':>12}{'over 5 s':>10}"
          f"{'(wall)':>8}{'slowest':>9}{'peak RSS':>10}{'time':>9}")
    for r in sorted(results, key=lambda r: targets.index(r["target"])):
        if "crashed" in r:
            print(f"{r['target']:<7}{r['cases']:>8}  worker died (exit {r['crashed']})")
            continue
        print(f"{r['target']:<7}{r['cases']:>8,}{r['ok']:>8,}{r['refused']:>9,}{r['tracebacks']:>12}"
              f"{r['over_5s']:>10}{r['over_5s_wall']:>8}{r['slowest_s']:>8.2f}s{r['peak_mb']:>7} MB"
              f"{r['total_s']:>8.0f}s")
    for r in results:
        for key, k in (r.get("kinds") or {}).items():
            print(f"  {r['target']}: {k['count']} × {key}: {k['message']} "
                  f"(replay: --replay {r['target']} {k['seed']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
