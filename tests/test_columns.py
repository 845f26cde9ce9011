"""The columnar feature store (layers/columns.py, layers/columns_io.py)."""
from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, MultiPoint, Point, Polygon

from planatlas.layers.columns import (
    LINE, POINT, POLYGON, Categorical, FeatureColumns, SpatialIndex, StringColumn,
)
from planatlas.layers.errors import InputError
from planatlas.layers.mercator import lonlat_to_merc


def _points(n=2000, seed=3):
    rng = np.random.default_rng(seed)
    lon = rng.uniform(113.2, 113.5, n)
    lat = rng.uniform(23.0, 23.2, n)
    return lon, lat


def test_string_column_round_trip_and_take():
    vals = ["天河路商圈", "", "abc", "北京路步行街", "x" * 40]
    col = StringColumn.from_list(vals)
    assert len(col) == 5 and col.tolist() == vals and col[-1] == "x" * 40
    assert col.take([3, 0, 0]).tolist() == ["北京路步行街", "天河路商圈", "天河路商圈"]
    assert col[1:3].tolist() == ["", "abc"]
    assert list(col.byte_lengths()) == [len(v.encode()) for v in vals]
    with pytest.raises(IndexError):
        col[5]


def test_categorical_codes_and_masks():
    cat = Categorical.from_values(["a", "b", None, "a", "c"])
    assert cat.categories == ("a", "b", "c")
    assert cat.codes.tolist() == [0, 1, -1, 0, 2]
    assert cat[2] is None and cat[4] == "c"
    assert cat.mask("a", "c").tolist() == [True, False, False, True, True]
    assert not cat.mask("zzz").any()
    assert cat.take([4, 2]).tolist() == ["c", None]


def test_points_project_like_pyproj_and_index_matches_brute_force():
    lon, lat = _points()
    cols = FeatureColumns.from_points(lon, lat, name=StringColumn.from_list(f"p{i}" for i in range(len(lon))))
    x, y = lonlat_to_merc(lon, lat)
    assert np.array_equal(cols.x, x) and np.array_equal(cols.y, y)
    assert cols.points_only and (cols.kind == POINT).all()
    x0, y0, x1, y1 = np.percentile(x, 20), np.percentile(y, 30), np.percentile(x, 70), np.percentile(y, 90)
    rows = cols.query(x0, y0, x1, y1)
    brute = np.flatnonzero((x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))
    assert sorted(rows.tolist()) == brute.tolist()
    # north first (the drawing order), ties in row order
    assert (np.diff(cols.y[rows]) <= 0).all()
    near = cols.nearest(float(x[5]), float(y[5]), 500.0)
    assert near[0] == 5
    assert (np.hypot(x[near] - x[5], y[near] - y[5]) <= 500).all()


def test_index_with_tall_and_small_boxes():
    rng = np.random.default_rng(1)
    n = 500
    x0 = rng.uniform(0, 1000, n)
    y0 = rng.uniform(0, 1000, n)
    w = rng.uniform(0, 20, n)
    h = rng.uniform(0, 20, n)
    h[:5] = 900                          # a few very tall boxes
    idx = SpatialIndex(x0, y0, x0 + w, y0 + h)
    for box in ((100, 100, 300, 200), (0, 950, 1000, 1000), (500, 0, 510, 5)):
        got = sorted(idx.query(*box).tolist())
        want = np.flatnonzero((x0 + w >= box[0]) & (x0 <= box[2]) & (y0 + h >= box[1]) & (y0 <= box[3]))
        assert got == want.tolist()


def test_geometries_anchor_kind_and_bounds():
    geoms = [Point(113.3, 23.1), LineString([(113.2, 23.0), (113.4, 23.0)]),
             Polygon([(113.0, 23.0), (113.1, 23.0), (113.1, 23.1), (113.0, 23.1)]),
             MultiPoint([(113.0, 23.0), (113.2, 23.2)])]
    cols = FeatureColumns.from_geometries(geoms, ids=np.array(["a", "b", "c", "d"], dtype=object))
    assert cols.kind.tolist() == [POINT, LINE, POLYGON, POINT]
    proj = cols.projected()
    assert shapely.get_x(proj[0]) == cols.x[0]
    mid = shapely.line_interpolate_point(proj[1], 0.5, normalized=True)
    assert (cols.x[1], cols.y[1]) == (mid.x, mid.y)
    assert shapely.contains(proj[2], shapely.points(cols.x[2], cols.y[2]))
    assert cols.lonlat_bounds[2].tolist() == [113.0, 23.0, 113.1, 23.1]
    assert cols.area()[2] > 0 and cols.area()[0] == 0
    assert cols.bbox_lonlat() == (113.0, 23.0, 113.4, 23.2)
    sub = cols.take([2, 0])
    assert list(sub.ids) == ["c", "a"] and sub.kind.tolist() == [POLYGON, POINT]
    with pytest.raises(InputError, match="'e'.*no geometry"):
        FeatureColumns.from_geometries([Point(1, 1), Polygon()], ids=["x", "e"])


def test_bad_points_are_refused():
    with pytest.raises(InputError, match="row 1 has no valid WGS-84 position"):
        FeatureColumns.from_points([113.0, np.nan], [23.0, 23.0])
    with pytest.raises(InputError, match="row 0"):
        FeatureColumns.from_points([200.0], [23.0])


def test_concat_keeps_shared_attributes():
    a = FeatureColumns.from_points([113.0], [23.0], cat=Categorical.from_values(["x"]),
                                   name=StringColumn.from_list(["一"]))
    b = FeatureColumns.from_geometries([Polygon([(113, 23), (113.1, 23), (113.1, 23.1)])],
                                       cat=Categorical.from_values(["y"]),
                                       name=StringColumn.from_list(["二"]), extra=np.ones(1))
    c = FeatureColumns.concat([a, b])
    assert len(c) == 2 and c.kind.tolist() == [POINT, POLYGON]
    assert c.attrs["cat"].tolist() == ["x", "y"] and c.attrs["name"].tolist() == ["一", "二"]
    assert "extra" not in c.attrs
    assert len(c.query(*c.bounds[1])) >= 1


def _write(path, geoms, fields, crs="EPSG:4326", geometry_type="Point"):
    import pyogrio.raw
    names = list(fields)
    pyogrio.raw.write(str(path), shapely.to_wkb(np.asarray(geoms, dtype=object)),
                      [np.asarray(fields[k]) for k in names], names, driver="GPKG",
                      geometry_type=geometry_type, crs=crs, layer="places")


def test_read_geopackage_points(tmp_path):
    lon, lat = _points(300)
    kinds = np.array(["cafe", "shop", "cafe"] * 100, dtype=object)
    names = np.array([f"店{i}" for i in range(300)], dtype=object)
    path = tmp_path / "pts.gpkg"
    _write(path, shapely.points(lon, lat), {"kind": kinds, "name": names, "size": np.arange(300.0)})
    cols = FeatureColumns.read(path, categorical=["kind"])
    assert len(cols) == 300 and cols.points_only
    assert np.allclose(cols.lon, lon) and np.allclose(cols.lat, lat)
    assert isinstance(cols.attrs["kind"], Categorical) and cols.attrs["kind"][1] == "shop"
    assert isinstance(cols.attrs["name"], StringColumn) and cols.attrs["name"][299] == "店299"
    assert cols.attrs["size"].dtype == np.float64 and cols.attrs["size"][7] == 7.0
    assert cols.ids.tolist() == list(range(1, 301))               # GeoPackage fids
    # streamed in small batches: the same result
    from planatlas.layers.columns_io import read_columns
    again = read_columns(FeatureColumns, path, categorical=["kind"], batch_size=64)
    assert np.array_equal(again.x, cols.x) and again.attrs["name"].tolist() == cols.attrs["name"].tolist()
    assert again.attrs["kind"].tolist() == cols.attrs["kind"].tolist()


def test_read_reprojects_and_reads_polygons(tmp_path):
    from pyproj import Transformer
    tr = Transformer.from_crs("EPSG:4326", "EPSG:4547", always_xy=True)    # CGCS2000 / 3° GK CM 114E
    polys = [shapely.box(113.3 + i * 0.01, 23.1, 113.305 + i * 0.01, 23.105) for i in range(4)]
    proj = [shapely.transform(p, lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1]))) for p in polys]
    path = tmp_path / "areas.gpkg"
    _write(path, proj, {"label": np.array(["a", "b", "c", "d"], dtype=object)}, crs="EPSG:4547",
           geometry_type="Polygon")
    cols = FeatureColumns.read(path)
    assert (cols.kind == POLYGON).all()
    assert np.allclose(cols.lonlat_bounds, shapely.bounds(np.asarray(polys)), atol=1e-7)


def test_read_errors(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        FeatureColumns.read(tmp_path / "nope.gpkg")
    bad = tmp_path / "bad.gpkg"
    bad.write_bytes(b"not a geopackage at all")
    with pytest.raises(InputError, match="bad.gpkg"):
        FeatureColumns.read(bad)
    lon, lat = _points(5)
    path = tmp_path / "p.gpkg"
    _write(path, shapely.points(lon, lat), {"kind": np.array(["a"] * 5, dtype=object)})
    with pytest.raises(InputError, match="no field.*colour"):
        FeatureColumns.read(path, categorical=["colour"])
