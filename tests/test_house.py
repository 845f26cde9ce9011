"""The shape of the house: one namespace, a Qt-free core, no import cycles, modules of one subject."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path


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
    typing_only = set()          # `if TYPE_CHECKING:` imports never run
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", getattr(node.test, "attr", "")) \
                == "TYPE_CHECKING":
            typing_only |= {id(n) for b in node.body for n in ast.walk(b)}
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
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


def test_layers_never_imports_argparse():
    """Qt and desktop imports are checked module by module in test_stack.py."""
    bad = [str(p.relative_to(ROOT)) for n, p in MODULES.items()
           if n.startswith("planatlas.layers") and any(m == "argparse" for m in _all_imports(p))]
    assert not bad, bad


def _all_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            out.add(node.module)
    return out


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
    """(geodata.build* are developer build scripts with their own ``python -m`` entry.)"""
    users = [str(p.relative_to(ROOT)) for n, p in MODULES.items()
             if "argparse" in _all_imports(p)
             and not n.startswith("planatlas.desktop.cli") and not n.startswith("planatlas.geodata.build")]
    assert not users, users


def test_every_package_is_installed():
    """Each folder with an __init__.py is listed in pyproject.toml (a wheel would miss it)."""
    import tomllib
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    listed = set(cfg["packages"])
    pkgs = {n for n, p in MODULES.items() if p.name == "__init__.py"}
    assert pkgs - listed == set(), sorted(pkgs - listed)


def test_wheel_holds_every_module_and_data_file(tmp_path):
    """``pip install .`` (a wheel) carries the same files an editable install uses."""
    import zipfile
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                        "-q", "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True,
                       timeout=600)
    if r.returncode != 0 and "No module named" in r.stderr and "setuptools" in r.stderr:
        import pytest
        pytest.skip("setuptools is not installed for a no-isolation build")
    assert r.returncode == 0, r.stderr[-2000:]
    wheel = next(tmp_path.glob("planatlas-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {n.split("/")[0] for n in names} == {"planatlas", wheel.name.split("-")[0] + "-"
                                                 + wheel.name.split("-")[1] + ".dist-info"}
    expected = set()
    for pkg, folder in PACKAGES.items():
        for path in folder.rglob("*"):
            if path.is_dir() or "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            rel = path.relative_to(folder).as_posix()
            if pkg == "planatlas" and rel.split("/")[0] in ("layers", "desktop", "geodata", "seeds"):
                continue
            if path.suffix == ".py" or any(rel.startswith(d) for d in ("data/", "admin/", "features/",
                                                                       "basemap/", "export/assets/")) \
                    or path.suffix in (".toml", ".txt") and pkg == "planatlas.seeds":
                expected.add("/".join([*pkg.split("."), rel]))
    missing = sorted(expected - names)
    assert not missing, missing[:20]
