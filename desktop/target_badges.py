"""View › Badge places by number of targets: the ``target_counts`` overlay of the map.

The counts come from :meth:`planatlas.layers.atlas.Atlas.target_counts` (targets about each
place; plan-wide targets that only share a clause with it are not counted) and are recomputed
when plans join or leave the atlas or places are put on the map."""
from __future__ import annotations

__all__ = ["show_target_badges", "refresh_target_badges"]

KIND = "target_counts"


def show_target_badges(win, on: bool) -> None:
    """Add (``on``) or remove the badge overlay of ``win``'s map."""
    if not on:
        win.state.remove_overlay(KIND)
        return
    win.state.set_overlay(KIND, {"counts": win.atlas.target_counts()})


def refresh_target_badges(win) -> None:
    """Recount after the atlas changed, if the badges are shown."""
    if f"overlay/{KIND}" in win.state.stack:
        show_target_badges(win, True)
