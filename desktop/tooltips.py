"""The map's hover tooltip: the topmost feature under the cursor — name, categories, district,
precision of an approximate position — and how many more lie under it (a click lists them all)."""
from __future__ import annotations

from html import escape

from planatlas.desktop.i18n import category_label, tr

__all__ = ["feature_tooltip"]


def feature_tooltip(atlas, scene, hits: list[str]) -> str | None:
    """Rich text for ``hits`` (feature ids, topmost first); None when the topmost is a user
    layer's feature (the identify panel lists those)."""
    fid = hits[0]
    f = atlas.features.get(fid)
    if f is None:                       # a feature of a columnar layer: its name
        i = getattr(scene, "index", {}).get(fid)
        if i is None:
            return None
        html = f"<b>{escape(str(scene.names[i]))}</b>"
    else:
        cats = "、".join(category_label(c, short=True) for c in f.categories)
        extra = f" · {tr('status.approximate')} ±{f.precision_m:.0f} m" if f.status != "verified" else ""
        html = f"<b>{escape(f.name)}</b><br>{escape(cats)} · {escape(f.district)}{escape(extra)}"
    if len(hits) > 1:
        html += f"<br><i>{escape(tr('tip.more', n=len(hits) - 1))}</i>"
    return html
