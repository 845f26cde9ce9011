"""Reading any user vector file: GDAL/pyogrio formats and tables with coordinate columns."""
from __future__ import annotations

import os

from .vector import TABLE_SUFFIXES, Progress, VectorData, check_path, read_ogr

__all__ = ["read_vector"]


def read_vector(path: str | os.PathLike, *, layer: str | int | None = None, crs: str = "auto",
                progress: Progress | None = None) -> VectorData:
    """Read a vector file or a table with coordinate columns into :class:`VectorData`.

    ``crs``: ``"auto"`` (the file's own CRS; for tables without one, detected from the data
    where it can be — see :mod:`.datum`), or one of ``wgs84``, ``cgcs2000``, ``gcj02``,
    ``bd09`` or an ``EPSG:`` code to override it. Raises :class:`InputError` for a file that is
    not usable, naming the file and why; :class:`Cancelled` when ``progress`` says stop.
    """
    p = check_path(path)
    if p.suffix.lower() in TABLE_SUFFIXES:
        from .table import read_table          # the survey readers: imported when used
        return read_table(p, crs=crs, progress=progress)
    return read_ogr(p, layer, crs, progress)
