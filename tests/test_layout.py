"""The house's import graph: one-way dependencies (api → tiles → gis → layers), no cycles.

`python tests/test_layout.py [ROOT]` prints the figures: modules, imports between them, cycles, upward imports.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("api", "tiles", "gis", "layers")
# Lower index = higher floor: a module may import its own package and packages after it, never before it.
ORDER = {name: i for i, name in enumerate(PACKAGES)}
# layers read only the shared tables of gis.db (declarations register their tables on that metadata).
LAYERS_MAY_IMPORT = ("layers", "gis.db.tables")


def modules(root: Path = ROOT) -> dict[str, Path]:
    """Every project module name → file (tests, migrations' revision files and bench excluded)."""
    out = {}
    for package in PACKAGES:
        for path in (root / package).rglob("*.py"):
            if "versions" in path.parts:
                continue
            rel = path.relative_to(root).with_suffix("")
            parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
            out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, known: dict[str, Path]) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{a.name}" for a in node.names] + [base]
        for t in targets:
            while t and t not in known:
                t = t.rpartition(".")[0]
            if t and t != name:
                yield t


def graph(root: Path = ROOT) -> dict[str, set[str]]:
    """module → the project modules it imports."""
    known = modules(root)
    return {name: set(_imports(name, path, known)) for name, path in known.items()}


def _top(name: str) -> str:
    return name.split(".")[0]


def upward(g: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Imports from a lower package to a higher one, and layers importing more than the shared tables."""
    bad = []
    for a, targets in g.items():
        for b in targets:
            allowed = b.startswith(LAYERS_MAY_IMPORT) if _top(a) == "layers" else ORDER[_top(b)] >= ORDER[_top(a)]
            if not allowed:
                bad.append((a, b))
    return sorted(bad)


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in g.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10_000)
    for v in g:
        if v not in index:
            visit(v)
    return out


def test_no_import_runs_back_up() -> None:
    assert upward(graph()) == []


def test_no_import_cycles() -> None:
    assert cycles(graph()) == []


def test_gis_knows_no_web_framework() -> None:
    """gis/ and tiles/ hold no FastAPI or Starlette types: the CLI and the API share them."""
    for name, path in modules().items():
        if _top(name) in ("gis", "tiles", "layers"):
            text = path.read_text(encoding="utf-8")
            assert "import fastapi" not in text and "from fastapi" not in text, name
            assert "from starlette" not in text, name


def test_modules_stay_small() -> None:
    big = {name: n for name, path in modules().items() if (n := len(path.read_text().splitlines())) > 420}
    assert big == {}


if __name__ == "__main__":
    root = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else ROOT
    g = graph(root)
    print(f"modules: {len(g)}")
    print(f"imports between them: {sum(len(t) for t in g.values())}")
    found = cycles(g)
    print(f"cycles: {len(found)}" + "".join(f"\n  {' ↔ '.join(c)}" for c in found))
    up = upward(g)
    print(f"upward imports: {len(up)}" + "".join(f"\n  {a} → {b}" for a, b in up))
