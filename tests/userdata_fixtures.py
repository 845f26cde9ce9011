"""Small files the user-data tests read: tiles, MBTiles/PMTiles archives, a local tile server."""
from __future__ import annotations

import http.server
import io
import threading
from pathlib import Path

from PIL import Image

from planatlas.layers.tiles.write import lonlat_tile_range, write_mbtiles

GZ_BOX = (113.20, 23.05, 113.45, 23.20)        # central Guangzhou


def png_tile(color=(200, 60, 60), size=256) -> bytes:
    img = Image.new("RGBA", (size, size), color + (255,))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def tiles_for(bbox, zooms, color=(200, 60, 60)):
    data = png_tile(color)
    for z in zooms:
        x0, y0, x1, y1 = lonlat_tile_range(bbox, z)
        for x in range(x0, x1 + 1):
            for y in range(y0, y1 + 1):
                yield z, x, y, data


def make_mbtiles(path: Path, bbox=GZ_BOX, zooms=range(9, 12), color=(200, 60, 60)) -> Path:
    write_mbtiles(path, tiles_for(bbox, zooms, color),
                  {"name": "test tiles", "format": "png", "attribution": "test © PlanAtlas",
                   "bounds": ",".join(map(str, bbox)), "minzoom": min(zooms), "maxzoom": max(zooms)})
    return path


def make_pmtiles(path: Path, bbox=GZ_BOX, zooms=range(9, 12), color=(60, 60, 200)) -> Path:
    from pmtiles.tile import Compression, TileType, zxy_to_tileid
    from pmtiles.writer import Writer
    tiles = sorted(((zxy_to_tileid(z, x, y), d) for z, x, y, d in tiles_for(bbox, zooms, color)))
    with open(path, "wb") as fh:
        w = Writer(fh)
        for tid, data in tiles:
            w.write_tile(tid, data)
        w.finalize({"tile_type": TileType.PNG, "tile_compression": Compression.NONE,
                    "min_zoom": min(zooms), "max_zoom": max(zooms),
                    "min_lon_e7": int(bbox[0] * 1e7), "min_lat_e7": int(bbox[1] * 1e7),
                    "max_lon_e7": int(bbox[2] * 1e7), "max_lat_e7": int(bbox[3] * 1e7),
                    "center_zoom": min(zooms), "center_lon_e7": int((bbox[0] + bbox[2]) * 5e6),
                    "center_lat_e7": int((bbox[1] + bbox[3]) * 5e6)},
                   {"name": "pm test", "attribution": "pm © test"})
    return path


class TileServer:
    """A tile server on 127.0.0.1 for the tests: /{z}/{x}/{y}.png, counts its requests."""

    def __init__(self, color=(40, 160, 40)):
        self.data = png_tile(color)
        self.requests: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):           # noqa: N802 - http.server API
                outer.requests.append(self.path)
                parts = self.path.strip("/").split("/")
                if len(parts) == 3 and parts[2].endswith(".png") and parts[0] != "404":
                    self.send_response(200)
                    self.send_header("Content-Type", "image/png")
                    self.send_header("Content-Length", str(len(outer.data)))
                    self.end_headers()
                    self.wfile.write(outer.data)
                else:
                    self.send_error(404)

            def log_message(self, *_a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def template(self) -> str:
        return f"http://127.0.0.1:{self.port}/{{z}}/{{x}}/{{y}}.png"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
