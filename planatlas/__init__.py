"""PlanAtlas — offline desktop GIS viewer for Chinese city commerce and consumption plans.

One import namespace: ``planatlas.layers`` (the Qt-free core), ``planatlas.desktop`` (the
PySide6 app and the command line), ``planatlas.geodata`` (curated features and basemap data) and
``planatlas.seeds`` (the shipped plan texts).
"""
from __future__ import annotations

__all__ = ["__version__"]


def __getattr__(name: str):
    """``__version__`` from the installed metadata, read when asked for (importlib.metadata
    costs ~0.1 s, which the app's start does not need to pay)."""
    if name != "__version__":
        raise AttributeError(f"module 'planatlas' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version
    try:
        value = version("planatlas")
    except PackageNotFoundError:    # running from a source tree that is not installed
        value = "0+unknown"
    globals()["__version__"] = value
    return value
