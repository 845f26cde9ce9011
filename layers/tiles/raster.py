"""Georeferenced images as basemaps: GeoTIFF (any CRS GDAL knows), PNG/JPEG with a world file
(.pgw/.jgw/.wld + .prj or a chosen CRS), read and warped to Web Mercator with ``rasterio``.

``rasterio`` was chosen because it is GDAL's well-kept Python binding with wheels that bundle
GDAL (installs cleanly here), and its ``WarpedVRT`` warps exactly the window a view needs at the
view's resolution, using the file's overviews — so a large orthophoto is never loaded whole.
"""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from planatlas.layers.errors import InputError

__all__ = ["RasterSource", "RASTER_SUFFIXES"]

RASTER_SUFFIXES = (".tif", ".tiff", ".png", ".jpg", ".jpeg")
_WORLD = {".png": (".pgw", ".pngw"), ".jpg": (".jgw", ".jpgw"), ".jpeg": (".jgw", ".jpegw"),
          ".tif": (".tfw", ".tifw"), ".tiff": (".tfw", ".tiffw")}


class RasterSource:
    """One georeferenced image; :meth:`render` returns the RGBA pixels of a Mercator window."""
    kind = "raster"

    def __init__(self, path: str | Path, crs: str | None = None):
        import rasterio
        from rasterio.errors import RasterioIOError
        self.path = Path(path)
        if not self.path.is_file():
            raise InputError(f"{self.path}: no such file")
        try:
            self._ds = rasterio.open(self.path)
        except RasterioIOError as exc:
            raise InputError(f"{self.path}: not an image GDAL can read ({exc})") from None
        ds = self._ds
        world = [self.path.with_suffix(s) for s in _WORLD.get(self.path.suffix.lower(), ())]
        if ds.transform.is_identity and not any(w.exists() for w in world) and not ds.gcps[0]:
            ds.close()
            raise InputError(f"{self.path}: the image is not georeferenced (no GeoTIFF tags and "
                             f"no world file {' or '.join(w.name for w in world) or ''})")
        self.src_crs = crs or (ds.crs.to_string() if ds.crs else None)
        if self.src_crs is None:
            b = ds.bounds
            if -180 <= b.left < b.right <= 180 and -90 <= b.bottom < b.top <= 90:
                self.src_crs = "EPSG:4326"
                self.crs_note = "no .prj beside the world file: read as WGS-84 lon/lat"
            else:
                ds.close()
                raise InputError(f"{self.path}: the world file's coordinates are projected but no "
                                 "coordinate system is given (add a .prj or choose one)")
        else:
            self.crs_note = f"coordinate system: {self.src_crs}"
        if self.src_crs.lower() in ("gcj02", "bd09"):
            ds.close()
            raise InputError(f"{self.path}: images in {self.src_crs} cannot be warped exactly; "
                             "use a WGS-84/CGCS2000 image")
        self.name = self.path.stem
        self.attribution = ""
        self.datum = "wgs84"
        self._lock = threading.Lock()
        from rasterio.warp import transform_bounds
        try:
            self.bounds = tuple(transform_bounds(self.src_crs, "EPSG:4326", *ds.bounds))
        except Exception as exc:           # noqa: BLE001 - PROJ errors of many kinds
            ds.close()
            raise InputError(f"{self.path}: cannot place the image ({exc})") from None
        self.count = ds.count
        self.dtype = ds.dtypes[0]
        self.colormap = None
        if ds.count == 1:
            try:
                self.colormap = ds.colormap(1)
            except ValueError:
                self.colormap = None
        self._stretch: tuple[float, float] | None = None

    def render(self, extent: tuple[float, float, float, float], width: int, height: int) -> np.ndarray:
        """RGBA uint8 (height, width, 4) of the Mercator ``extent`` (transparent outside)."""
        from rasterio.enums import Resampling
        from rasterio.transform import from_bounds
        from rasterio.vrt import WarpedVRT
        width, height = max(1, int(width)), max(1, int(height))
        t = from_bounds(*extent, width, height)
        with self._lock:
            with WarpedVRT(self._ds, crs="EPSG:3857", transform=t, width=width, height=height,
                           resampling=Resampling.bilinear, add_alpha=True,
                           src_crs=None if self._ds.crs else self.src_crs) as vrt:
                data = vrt.read()
        alpha = data[-1]
        bands = data[:-1]
        if self._ds.count == 4 or (self._ds.count == 2):          # the file's own alpha band
            alpha = np.minimum(alpha, bands[-1]) if bands.dtype == np.uint8 else alpha
            bands = bands[:-1]
        rgb = self._to_rgb(bands)
        out = np.empty((height, width, 4), dtype=np.uint8)
        out[..., :3] = rgb
        out[..., 3] = np.where(alpha > 0, 255, 0) if alpha.dtype != np.uint8 else alpha
        return out

    def _to_rgb(self, bands: np.ndarray) -> np.ndarray:
        if self.colormap is not None and bands.shape[0] == 1:
            lut = np.zeros((256, 3), dtype=np.uint8)
            for k, c in self.colormap.items():
                if 0 <= k < 256:
                    lut[k] = c[:3]
            return lut[bands[0].astype(np.uint8)]
        if bands.dtype != np.uint8:
            if self._stretch is None:
                sample = self._ds.read(1, out_shape=(min(512, self._ds.height), min(512, self._ds.width)),
                                       masked=True).compressed()
                lo, hi = (np.percentile(sample, [2, 98]) if sample.size else (0.0, 1.0))
                self._stretch = (float(lo), float(hi) if hi > lo else float(lo) + 1.0)
            lo, hi = self._stretch
            bands = np.clip((bands.astype(np.float64) - lo) * (255.0 / (hi - lo)), 0, 255).astype(np.uint8)
        if bands.shape[0] >= 3:
            return np.moveaxis(bands[:3], 0, -1)
        return np.repeat(bands[0][..., None], 3, axis=-1)

    def describe(self) -> dict:
        return {"kind": self.kind, "name": self.name, "crs": self.src_crs, "bounds": list(self.bounds),
                "bands": self.count, "dtype": self.dtype}

    def close(self) -> None:
        self._ds.close()
