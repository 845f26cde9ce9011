"""Tile basemaps (planatlas.layers.tiles): local stores, georeferenced images, the tile plan of a
view (incl. GCJ-02 tiles), online sources with a disk cache against a server on 127.0.0.1."""
from __future__ import annotations

import time

import numpy as np
import pytest

from planatlas.layers.crs import wgs84_to_gcj02
from planatlas.layers.errors import InputError
from planatlas.layers.tiles import (
    MBTilesSource, OnlineXYZSource, PMTilesSource, RasterSource, XYZFolderSource, open_tiles,
    plan_tiles, tile_bounds, tile_kind, tile_url,
)
from planatlas.layers.tiles.write import lonlat_tile_range
from planatlas.layers.userdata.vector import merc

from userdata_fixtures import GZ_BOX, TileServer, make_mbtiles, make_pmtiles, png_tile


def _some_tile(z=10):
    x0, y0, _x1, _y1 = lonlat_tile_range(GZ_BOX, z)
    return z, x0, y0


def test_mbtiles_reads_tiles_metadata_and_flips_rows(tmp_path):
    src = MBTilesSource(make_mbtiles(tmp_path / "gz.mbtiles"))
    assert (src.minzoom, src.maxzoom) == (9, 11) and src.attribution == "test © PlanAtlas"
    z, x, y = _some_tile()
    assert src.fetch(z, x, y).data[:4] == b"\x89PNG"
    assert src.fetch(z, x, (1 << z) - 1 - y).state == "empty"     # the TMS row is not the XYZ one
    assert src.bounds == GZ_BOX


def test_pmtiles_and_xyz_folder(tmp_path):
    pm = PMTilesSource(make_pmtiles(tmp_path / "gz.pmtiles"))
    z, x, y = _some_tile(11)
    assert pm.fetch(z, x, y).data[:4] == b"\x89PNG" and pm.fetch(3, 0, 0).state == "empty"
    assert pm.maxzoom == 11 and pm.attribution == "pm © test"
    folder = tmp_path / "xyz"
    (folder / "10" / str(x >> 1)).mkdir(parents=True)
    (folder / "10" / str(x >> 1) / f"{y >> 1}.png").write_bytes(png_tile())
    xs = XYZFolderSource(folder)
    assert xs.fetch(10, x >> 1, y >> 1).data[:4] == b"\x89PNG" and xs.minzoom == xs.maxzoom == 10
    assert tile_kind(folder) == "xyz" and tile_kind(tmp_path / "gz.pmtiles") == "pmtiles"


def test_bad_tile_files_are_refused_with_a_reason(tmp_path):
    junk = tmp_path / "junk.mbtiles"
    junk.write_bytes(b"not sqlite at all" * 20)
    with pytest.raises(InputError, match="not an MBTiles file"):
        MBTilesSource(junk)
    with pytest.raises(InputError, match="not a PMTiles"):
        PMTilesSource(junk)
    with pytest.raises(InputError, match="no zoom folders"):
        XYZFolderSource(tmp_path)
    import sqlite3
    vec = tmp_path / "vector.mbtiles"
    db = sqlite3.connect(vec)
    db.execute("CREATE TABLE metadata (name, value)")
    db.execute("CREATE TABLE tiles (zoom_level, tile_column, tile_row, tile_data)")
    db.execute("INSERT INTO metadata VALUES ('format', 'pbf')")
    db.execute("INSERT INTO tiles VALUES (0, 0, 0, x'00')")
    db.commit()
    db.close()
    with pytest.raises(InputError, match="vector tiles"):
        MBTilesSource(vec)
    with pytest.raises(InputError, match="unknown tile source type"):
        open_tiles({"type": "wms"})


def test_geotiff_and_world_file_images_render_into_a_mercator_window(tmp_path):
    import rasterio
    from rasterio.transform import from_bounds
    data = np.zeros((3, 100, 200), dtype=np.uint8)
    data[0, :, :100] = 255           # west half red, east half blue
    data[2, :, 100:] = 255
    tif = tmp_path / "ortho.tif"
    with rasterio.open(tif, "w", driver="GTiff", width=200, height=100, count=3, dtype="uint8",
                       crs="EPSG:4326", transform=from_bounds(113.2, 23.0, 113.4, 23.1, 200, 100)) as ds:
        ds.write(data)
    src = RasterSource(tif)
    assert np.allclose(src.bounds, (113.2, 23.0, 113.4, 23.1))
    x0, y0 = merc(113.1, 23.0)
    x1, y1 = merc(113.5, 23.1)
    img = src.render((float(x0), float(y0), float(x1), float(y1)), 400, 100)
    assert img.shape == (100, 400, 4)
    assert img[50, 10, 3] == 0                       # outside the image: transparent
    assert tuple(img[50, 150, :3]) == (255, 0, 0) and tuple(img[50, 250, :3]) == (0, 0, 255)
    # a PNG + world file without .prj: read as lon/lat
    from PIL import Image
    png = tmp_path / "scan.png"
    Image.fromarray(np.moveaxis(data, 0, -1)).save(png)
    png.with_suffix(".pgw").write_text("0.001\n0\n0\n-0.001\n113.2005\n23.0995\n")
    src2 = RasterSource(png)
    assert "WGS-84" in src2.crs_note and abs(src2.bounds[0] - 113.2) < 1e-6
    bare = tmp_path / "bare.png"
    Image.fromarray(np.moveaxis(data, 0, -1)).save(bare)
    with pytest.raises(InputError, match="not georeferenced"):
        RasterSource(bare)


def test_tile_plan_covers_the_view_and_shifts_gcj02_tiles(tmp_path):
    src = MBTilesSource(make_mbtiles(tmp_path / "gz.mbtiles"))
    x0, y0 = merc(113.30, 23.10)
    x1, y1 = merc(113.34, 23.13)
    z, tiles = plan_tiles(src, (float(x0), float(y0), float(x1), float(y1)), 150.0)
    assert z == 10 and tiles
    assert all(tile_bounds(t.z, t.x, t.y) == t.box for t in tiles)
    # GCJ-02 tiles: a street at WGS-84 position P is drawn in the tile at GCJ-02(P); the planned
    # box puts that tile content exactly on P
    src.datum = "gcj02"
    lon, lat = 113.3245, 23.1064
    glon, glat = wgs84_to_gcj02(lon, lat)
    gx, gy = merc(glon, glat)
    _z, gt = plan_tiles(src, (float(x0), float(y0), float(x1), float(y1)), 10.0)

    def piece(t):                    # the Mercator box of the part of the tile the piece shows
        b = tile_bounds(t.z, t.x, t.y)
        w = b[2] - b[0]
        return (b[0] + t.part[0] * w, b[3] - t.part[3] * w, b[0] + t.part[2] * w, b[3] - t.part[1] * w)
    hit = [t for t in gt if piece(t)[0] <= gx < piece(t)[2] and piece(t)[1] <= gy < piece(t)[3]]
    assert len(hit) == 1 and hit[0].z == 11 and hit[0].part != (0.0, 0.0, 1.0, 1.0)
    t = hit[0]
    pb = piece(t)
    fx, fy = (gx - pb[0]) / (pb[2] - pb[0]), (gy - pb[1]) / (pb[3] - pb[1])   # where in the piece
    drawn_x = t.box[0] + fx * (t.box[2] - t.box[0])
    drawn_y = t.box[1] + fy * (t.box[3] - t.box[1])
    wx, wy = merc(lon, lat)
    assert abs(drawn_x - wx) < 2.5 and abs(drawn_y - wy) < 2.5      # a quarter pixel at 10 m/px


def test_online_source_caches_then_works_offline_and_marks_missing(tmp_path):
    server = TileServer()
    try:
        arrived = []
        src = OnlineXYZSource(server.template, tmp_path / "cache", timeout=2.0,
                              attribution="local test server")
        src.on_tile = lambda z, x, y: arrived.append((z, x, y))
        assert src.fetch(10, 834, 444).state == "pending"
        deadline = time.monotonic() + 10
        while not arrived and time.monotonic() < deadline:
            time.sleep(0.02)
        assert arrived == [(10, 834, 444)] and server.requests == ["/10/834/444.png"]
        assert src.fetch(10, 834, 444).data[:4] == b"\x89PNG"         # from the disk cache now
        assert len(server.requests) == 1
    finally:
        server.stop()
        src.close()
    # the server is gone: a new source over the same cache draws the cached tile at once and
    # reports the others missing without blocking
    off = OnlineXYZSource(server.template, tmp_path / "cache", timeout=1.0, offline_after=1)
    done = []
    off.on_tile = lambda *t: done.append(t)
    t0 = time.monotonic()
    assert off.fetch(10, 834, 444).state == "ok"
    assert off.fetch(10, 835, 444).state == "pending"
    assert time.monotonic() - t0 < 0.5
    deadline = time.monotonic() + 10
    while not done and time.monotonic() < deadline:
        time.sleep(0.02)
    assert off.fetch(10, 835, 444).state == "missing" and off.offline
    off.close()


def test_templates_and_nothing_online_unless_added():
    assert tile_url("https://t{s}.x/{z}/{x}/{-y}.png", 3, 1, 2, "ab") == "https://tb.x/3/1/5.png"
    assert tile_url("http://h/{q}", 3, 3, 5, "") == "http://h/213"
    with pytest.raises(InputError, match="http"):
        OnlineXYZSource("file:///etc/{z}/{x}/{y}")
    with pytest.raises(InputError, match=r"\{z\}"):
        OnlineXYZSource("https://h/tiles.png")
