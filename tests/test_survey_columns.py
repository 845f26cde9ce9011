"""Surveys read and checked as columns give exactly what the row-by-row reader gives.

The column-wise CSV reader (layers/survey/read_columns.py) must produce, row for row, the
SurveyRows of ``iter_survey``; the columnar check must produce the same report whether it is
fed the file (fast path) or the rows; and big surveys check within the row limit.
"""
from __future__ import annotations

import csv
import math
import random

import numpy as np
import pytest
from shapely.geometry import Point

import fuzzcases
from planatlas.layers.model import Feature
from planatlas.layers.survey import check_rows, check_survey, iter_survey, write_report
from planatlas.layers.survey import read_columns as rc
from planatlas.layers.survey.check import read_table
from planatlas.layers.survey.rows import SurveyFormatError


def _same_rows(a, b) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b):
        for f in ("row", "where", "name", "fid", "error", "notes", "status", "date",
                  "hint_swapped", "message"):
            assert getattr(x, f) == getattr(y, f), (f, x, y)
        for f in ("lon", "lat"):
            u, v = getattr(x, f), getattr(y, f)
            assert (math.isnan(u) and math.isnan(v)) or u == v, (f, x, y)


def _outcome(fn):
    try:
        return fn(), None
    except SurveyFormatError as exc:
        return None, str(exc)


@pytest.mark.parametrize("chunk", [3, 8192])
def test_fast_csv_reader_equals_the_row_reader_on_fuzz_cases(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(rc, "CHUNK", chunk)
    rng = random.Random(20241201 + chunk)
    compared = 0
    for k in range(250):
        _name, data = fuzzcases.csv_case(rng)
        path = tmp_path / f"case{k}.csv"
        path.write_bytes(data)
        rows, err_a = _outcome(lambda: list(iter_survey(path)))
        table, err_b = _outcome(lambda: read_table(path))
        assert err_a == err_b, (k, data[:300])
        if rows is not None:
            _same_rows(rows, [table.row_of(i) for i in range(len(table))])
            compared += len(rows)
    assert compared > 1000


def _features():
    return [Feature(id=f"f{i}", name=f"测试站点{i}号", aliases=[f"站点{i}"],
                    categories=["commercial_district"], subtype="", tier=None, plans=["gz"],
                    district="", adcode="", geometry=Point(113.2 + i * 0.01, 23.0 + i * 0.005),
                    precision_m=50.0, source="t", status="approximate") for i in range(30)]


def _survey(path, n, seed=3):
    rng = np.random.default_rng(seed)
    feats = _features()
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["编号", "名称", "经度", "纬度", "备注", "状态"])
        for i in range(n):
            f = feats[int(rng.integers(0, len(feats)))]
            lon, lat = f.geometry.x + rng.normal(0, 2e-4), f.geometry.y + rng.normal(0, 2e-4)
            kind = rng.random()
            if kind < 0.03:
                lon_s, lat_s = f"{lat:.6f}", f"{lon:.6f}"                 # swapped
            elif kind < 0.05:
                lon_s, lat_s = "113°12'30\"E", "N23 7 12"                   # DMS, hemispheres
            elif kind < 0.07:
                lon_s, lat_s = "abc", f"{lat:.6f}"
            else:
                lon_s, lat_s = f"{lon:.6f}", f"{lat:.6f}"
            name = f.name if rng.random() > 0.05 else f"不存在的地点{i}"
            w.writerow([f.id if rng.random() < 0.1 else "", name, lon_s, lat_s,
                        "备注" if i % 7 == 0 else "", ["", "找到", "moved", "缺失"][i % 4]])
    return feats


def test_report_from_the_file_equals_the_report_from_rows(tmp_path):
    path = tmp_path / "s.csv"
    feats = _survey(path, 3000)
    a = check_survey(path, feats, crs="auto")
    b = check_rows(iter_survey(path), feats, crs="auto", source=str(path))
    assert a.counts == b.counts and a.crs.to_dict() == b.crs.to_dict()
    assert a.messages == b.messages and a.not_surveyed == b.not_surveyed
    assert [r.to_dict() for r in a.rows] == [r.to_dict() for r in b.rows]
    assert {r.status for r in a.rows} == {"confirmed", "moved", "unmatched", "invalid"}
    assert any("swapped" in r.message for r in a.rows)
    assert any("surveyor reported" in r.message for r in a.rows)
    # the report file is written from the columns, chunk by chunk; the same as row by row
    out = write_report(a, tmp_path / "r.csv")
    with open(out, encoding="utf-8-sig", newline="") as fh:
        lines = list(csv.reader(fh))
    assert len(lines) == 1 + len(a.rows) + len(a.not_surveyed)
    r5 = a.rows[5]
    assert lines[6][0] == str(r5.row) and lines[6][6] == r5.status and lines[6][-1] == r5.message
    assert a.row(r5.row).message == r5.message


def test_more_rows_than_the_old_limit_check(tmp_path):
    """250,000 rows (over the 200,000 the readers allowed before) check as columns."""
    path = tmp_path / "big.csv"
    feats = _survey(path, 250_000, seed=5)
    report = check_survey(path, feats, crs="wgs84")
    assert len(report.rows) == 250_000
    assert sum(report.counts[s] for s in ("confirmed", "moved", "unmatched", "invalid")) == 250_000
    assert report.rows[-1].row == 250_000
