"""PlanAtlas — offline desktop GIS viewer for Chinese city commerce and consumption plans.

One import namespace: ``planatlas.layers`` (the Qt-free core), ``planatlas.desktop`` (the
PySide6 app and the command line), ``planatlas.geodata`` (curated features and basemap data) and
``planatlas.seeds`` (the shipped plan texts).
"""
from __future__ import annotations

try:
    from importlib.metadata import PackageNotFoundError, version as _version
    __version__ = _version("planatlas")
except PackageNotFoundError:        # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
