"""The layer stack model (planatlas.layers.stack): records, kinds, order, events, JSON — and
that every planatlas.layers module works without Qt."""
from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import planatlas.layers
from planatlas.layers.stack import (
    Layer, LayerKind, LayerStack, StackError, default_stack, kinds, layer_kind, make_layer,
    plan_layer_id, register_kind, standard_stack,
)


@pytest.fixture
def stack():
    return standard_stack(["guangzhou", "binhai"])


def test_standard_stack_order_and_groups(stack):
    ids = stack.ids()
    # plan areas over city outlines: 广州/中山's dashed plan line is not hidden by the city's
    assert ids[:4] == ["basemap/districts", "basemap/water", "basemap/city_outlines",
                       "basemap/plan_areas"]
    # the first plan and its first category end up on top (the panel lists them first)
    assert ids[-1] == plan_layer_id("guangzhou", "commercial_district")
    assert [g for g, _ids in stack.groups()] == ["basemap", "plan:binhai", "plan:guangzhou"]
    layer = stack[plan_layer_id("binhai", "night_economy")]
    assert (layer.kind, layer.role, dict(layer.source)) == (
        "plan_category", "thematic", {"plan": "binhai", "category": "night_economy"})
    assert layer.style["shape"] == "diamond" and layer.style["labels"] is True
    assert layer.title("zh") == "夜间经济" and layer.title("en") == "Night economy"
    assert stack["basemap/districts"].style["labels"] is True
    assert standard_stack(["x"], basemap=False).ids()[0] == "plan/x/scenic_area"


def test_default_stack_of_an_atlas_adds_plans_only_features_name():
    class A:
        plans = {"gz": None}
        basemap = None
        features = {"f": type("F", (), {"id": "f", "plans": ["gz", "user1"]})()}
    s = default_stack(A())
    assert {la.source["plan"] for la in s.find(kind="plan_category")} == {"gz", "user1"}
    assert not s.find(role="basemap")


def test_json_round_trip(stack):
    stack.set_visible(plan_layer_id("guangzhou", "scenic_area"), False)
    stack.set_opacity("basemap/water", 0.4)
    stack.set_style(plan_layer_id("binhai", "logistics_hub"), color="#ABC", size=14)
    stack.add(make_layer("survey_report", "overlay/survey_report",
                         source={"points": [[113.3, 23.1, "moved", "天河路"]]}))
    stack.move_group("plan:binhai", +1)
    text = json.dumps(stack.to_dict(), ensure_ascii=False)
    again = LayerStack.from_dict(json.loads(text))
    assert again.layers == stack.layers
    assert again.to_dict() == stack.to_dict()
    assert again[plan_layer_id("binhai", "logistics_hub")].style["color"] == "#aabbcc"
    assert "天河路" in text and again["overlay/survey_report"].source["points"][0][3] == "天河路"
    assert "source" not in stack.to_dict(sources=False)["layers"][0]


def test_bad_records_say_what_is_wrong(stack):
    with pytest.raises(StackError, match="unknown layer kind 'tiles'"):
        Layer("t", "tiles")
    with pytest.raises(StackError, match="needs source keys"):
        Layer("p", "plan_category", source={"plan": "gz"})
    with pytest.raises(StackError, match="opacity"):
        stack.set_opacity("basemap/water", 1.5)
    with pytest.raises(StackError, match="invalid colour"):
        stack.set_style("basemap/water", fill="blue-ish")
    with pytest.raises(StackError, match="symbol size"):
        stack.set_style(plan_layer_id("binhai", "logistics_hub"), size=0)
    with pytest.raises(StackError, match="unknown style keys"):
        stack.set_style("basemap/water", colour="#000000")
    with pytest.raises(StackError, match="already has"):
        stack.add(make_layer("water", "basemap/water"))
    with pytest.raises(KeyError, match="unknown layer"):
        stack.set_visible("nope", False)
    with pytest.raises(StackError, match=r"layers\[0\]: unknown layer kind"):
        LayerStack.from_dict({"version": 1, "layers": [{"id": "a", "kind": "nope"}]})
    with pytest.raises(StackError, match="version 9"):
        LayerStack.from_dict({"version": 9, "layers": []})
    layer = stack["basemap/water"]
    with pytest.raises(AttributeError):
        layer.visible = False                       # records change only through the stack
    with pytest.raises(TypeError):
        layer.style["fill"] = "#000000"


def test_kinds_are_an_open_registry():
    assert {"districts", "water", "plan_areas", "city_outlines", "plan_category",
            "survey_report", "position_history"} <= set(kinds())
    register_kind(LayerKind("test_tiles", "basemap", {"zh": "瓦片", "en": "Tiles"},
                            {"edge": "#000000"}, source_keys=("url",), group="basemap"))
    try:
        s = LayerStack([make_layer("test_tiles", source={"url": "file:///tiles"})])
        assert layer_kind("test_tiles").role == "basemap"
        assert LayerStack.from_dict(json.loads(json.dumps(s.to_dict()))).layers == s.layers
        assert s["test_tiles"].title("en") == "Tiles"
    finally:
        from planatlas.layers import layer as module
        module._KINDS.pop("test_tiles")


def test_events_revision_and_batches(stack):
    seen = []
    unsubscribe = stack.subscribe(seen.append)
    r0 = stack.revision
    lid = plan_layer_id("guangzhou", "night_economy")
    stack.set_visible(lid, False)
    stack.set_visible(lid, False)                      # no change, no event
    stack.set_style(lid, color="#123456")
    assert [(e.type, e.ids) for e in seen] == [("visibility", (lid,)), ("style", (lid,))]
    assert stack.revision == r0 + 2
    with stack.batch():
        stack.set_visibility([lid, "basemap/water"], False)
        stack.move(lid, 0)
    assert seen[-1].type == "changed" and set(seen[-1].ids) == {lid, "basemap/water"}
    assert len(seen) == 3
    unsubscribe()
    stack.set_visible(lid, True)
    assert len(seen) == 3
    assert [la.id for la in stack.visible_layers()] == [la.id for la in stack if la.visible]


def test_add_puts_layers_below_overlays_and_overlays_on_top(stack):
    survey = stack.add(make_layer("survey_report", "overlay/s", source={"points": []}))
    user = stack.add(make_layer("water", "user/water"))
    assert stack.ids()[-2:] == ["user/water", "overlay/s"]
    assert stack.index(survey.id) == len(stack) - 1
    stack.add(make_layer("plan_areas", "bottom"), index=0)
    assert stack.ids()[0] == "bottom"
    assert stack.remove(user.id) == user and "user/water" not in stack


def test_moves_within_a_group_and_of_groups(stack):
    gz = [i for g, ids in stack.groups() if g == "plan:guangzhou" for i in ids]
    top = gz[-1]
    assert not stack.move_within_group(top, +1)          # already the top of the stack
    assert stack.move_within_group(top, -1)
    assert stack.ids()[-2:] == [top, gz[-2]]
    bottom_bh = [i for g, ids in stack.groups() if g == "plan:binhai" for i in ids][0]
    assert not stack.move_within_group(bottom_bh, -1)    # would leave its group
    assert stack.move_group("plan:guangzhou", -1)
    assert [g for g, _ in stack.groups()] == ["basemap", "plan:guangzhou", "plan:binhai"]
    assert not stack.move_group("plan:binhai", +1)
    with pytest.raises(StackError, match="unknown group"):
        stack.move_group("plan:mars", 1)
    with pytest.raises(StackError, match="every layer id"):
        stack.reorder(stack.ids()[1:])


def test_apply_state_takes_choices_for_known_layers_only(stack):
    saved = standard_stack(["guangzhou", "binhai"])
    saved.set_visible(plan_layer_id("binhai", "scenic_area"), False)
    saved.set_style(plan_layer_id("guangzhou", "logistics_hub"), color="#010203")
    saved.move_group("plan:guangzhou", -1)
    d = saved.to_dict(sources=False)
    d["layers"].append({"id": "plan/gone/scenic_area", "kind": "plan_category", "visible": False})
    bad = next(r for r in d["layers"] if r["id"] == plan_layer_id("binhai", "night_economy"))
    bad.update(style={"size": "huge"}, visible=False)    # a bad record is skipped
    stack.apply_state(d)
    assert [g for g, _ in stack.groups()] == ["basemap", "plan:guangzhou", "plan:binhai"]
    assert not stack[plan_layer_id("binhai", "scenic_area")].visible
    assert stack[plan_layer_id("guangzhou", "logistics_hub")].style["color"] == "#010203"
    assert "plan/gone/scenic_area" not in stack
    assert stack[plan_layer_id("binhai", "night_economy")].visible


# ----------------------------------------------------------------------------- no Qt in layers
LAYERS_DIR = Path(planatlas.layers.__file__).parent
MODULES = sorted(m.name for m in pkgutil.walk_packages([str(LAYERS_DIR)], "planatlas.layers."))


@pytest.fixture(scope="module")
def blocked_imports() -> dict[str, str]:
    """Import every planatlas.layers module in a fresh interpreter where PySide6 and
    planatlas.desktop cannot be imported; module -> "ok" or the error."""
    code = textwrap.dedent(f"""
        import importlib, importlib.abc, json, sys
        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] == "PySide6" or name.startswith("planatlas.desktop"):
                    raise ImportError(f"blocked: {{name}}")
                return None
        sys.meta_path.insert(0, Block())
        out = {{}}
        for name in {MODULES!r}:
            try:
                importlib.import_module(name)
                out[name] = "ok"
            except Exception as exc:
                out[name] = f"{{type(exc).__name__}}: {{exc}}"
        out["qt_loaded"] = str(any(m.split(".")[0] == "PySide6" for m in sys.modules))
        print(json.dumps(out))
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def _imports_of(path: Path) -> set[str]:
    """Every module a file imports, at any level (also inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", MODULES)
def test_layers_module_works_without_qt(module, blocked_imports):
    assert blocked_imports[module] == "ok"
    assert blocked_imports["qt_loaded"] == "False"
    path = LAYERS_DIR.joinpath(*module.split(".")[2:])
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    bad = {n for n in _imports_of(path)
           if n.split(".")[0] in ("PySide6", "desktop") or n.startswith("planatlas.desktop")}
    assert not bad, f"{module} imports {sorted(bad)}"
