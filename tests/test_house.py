"""The shape of the house: one namespace, a Qt-free core, no import cycles, modules of one subject."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"planatlas.layers": ROOT / "layers", "planatlas.desktop": ROOT / "desktop",
            "planatlas.geodata": ROOT / "geodata", "planatlas.seeds": ROOT / "seeds",
            "planatlas": ROOT / "planatlas"}
MAX_LINES = 550          # "no project module over ~500 lines"


def _modules() -> dict[str, Path]:
    out = {}
    for pkg, folder in PACKAGES.items():
        for path in folder.rglob("*.py"):
            rel = path.relative_to(folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            if pkg == "planatlas" and parts and parts[0] in ("layers", "desktop", "geodata", "seeds"):
                continue
            out[".".join([pkg, *parts])] = path
    return out


MODULES = _modules()


def _imports(name: str, path: Path) -> list[tuple[str, int]]:
    """Project modules imported anywhere in ``path`` (module level or inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_pkg = path.name == "__init__.py"
    base = name.split(".") if is_pkg else name.split(".")[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                found.append((a.name, node.lineno))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                mod = ".".join(base[: len(base) - node.level + 1] + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            for a in node.names:
                sub = f"{mod}.{a.name}"
                found.append((sub if sub in MODULES else mod, node.lineno))
    return [(m, ln) for m, ln in found if m in MODULES and m != name]


def test_one_top_level_package_installed():
    out = subprocess.run([sys.executable, "-c",
                          "import planatlas.layers.atlas, importlib.util as u;"
                          "print(u.find_spec('layers'), u.find_spec('desktop'), u.find_spec('seeds'))"],
                         capture_output=True, text=True, cwd="/", timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["None", "None", "None"]


def test_layers_never_imports_desktop_qt_or_argparse():
    bad = []
    for name, path in MODULES.items():
        if not name.startswith("planatlas.layers"):
            continue
        src = path.read_text(encoding="utf-8")
        tree = ast.parse(src)
        for node in ast.walk(tree):
            mods = []
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                mods = [node.module or ""]
            for m in mods:
                if m.split(".")[0] in ("PySide6", "argparse") or m.startswith("planatlas.desktop"):
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {m}")
    assert not bad, "\n".join(bad)


def test_layers_import_with_pyside6_blocked():
    names = sorted(n for n in MODULES if n.startswith("planatlas.layers"))
    code = (
        "import sys, importlib\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'PySide6' or name.startswith('PySide6.') or name.startswith('shiboken6'):\n"
        "            raise ImportError('PySide6 is blocked in this test')\n"
        "sys.meta_path.insert(0, Block())\n"
        f"for n in {names!r}:\n"
        "    importlib.import_module(n)\n"
        "print('ok', len(sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.startswith("ok"), out.stderr[-2000:]


def test_no_import_cycles():
    graph = {n: {m for m, _ in _imports(n, p)} for n, p in MODULES.items()}
    # a package's __init__ re-exporting its own submodules is not a cycle with them
    for n in graph:
        graph[n] = {m for m in graph[n] if not (m.startswith(n + ".") and MODULES[n].name == "__init__.py")
                    and not (n.startswith(m + ".") and MODULES[m].name == "__init__.py"
                             and m != "planatlas")}
    seen, stack, cycles = set(), [], []

    def visit(n, onpath):
        if n in onpath:
            cycles.append(stack[stack.index(n):] + [n])
            return
        if n in seen:
            return
        seen.add(n)
        onpath.add(n)
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            visit(m, onpath)
        stack.pop()
        onpath.discard(n)

    for n in sorted(graph):
        visit(n, set())
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles[:10])


def test_modules_hold_one_subject():
    long = {str(p.relative_to(ROOT)): n for p in MODULES.values()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_argparse_lives_only_in_the_cli_package():
    users = [str(p.relative_to(ROOT)) for n, p in MODULES.items()
             if "import argparse" in p.read_text(encoding="utf-8")
             and not n.startswith("planatlas.desktop.cli") and not n.startswith("planatlas.geodata.build")]
    assert not users, users
