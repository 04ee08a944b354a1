"""The package layout: imports point one way, from the wiring down to the stages and plain data.

Walks every module's imports with `ast` (those inside functions too), so a circle or an upward import
fails here before it confuses a reader.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "pipeline"
# Layers from the bottom up: a module may import its own layer's modules and those of layers below.
LAYERS = (
    ("common",),
    ("pdf",),
    ("sources", "parse", "model"),
    ("warehouse",),
    ("report", "build"),
    ("orchestration",),
    ("cli", "definitions"),
    ("bench",),
)
MAX_LINES = 600


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(path: Path, known: set[str]) -> set[str]:
    """The project's modules that `path` imports (`from pipeline.x import y` counts y when y is a module)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in known}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pipeline"):
            subs = {f"{node.module}.{a.name}" for a in node.names} & known
            found |= subs or ({node.module} & known)
    return found


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports_of(path, known) - {name} - {"pipeline"} for name, path in mods.items()}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 on the path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(edges):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def layer_of(module: str) -> int:
    top = module.split(".")[1] if module.count(".") else ""
    for i, names in enumerate(LAYERS):
        if top in names:
            return i
    raise AssertionError(f"{module} is in no layer: add its package to LAYERS")


def test_the_cycle_finder_finds_a_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_module_imports_in_a_circle():
    assert find_cycle(graph()) is None


def test_imports_point_down_the_layers():
    upward = [
        f"{name} -> {dep}"
        for name, deps in graph().items()
        if name != "pipeline"
        for dep in deps
        if layer_of(dep) > layer_of(name)
    ]
    assert upward == []


def test_no_stage_imports_the_dagster_wiring():
    stages = {"common", "pdf", "sources", "parse", "model", "warehouse", "report", "build"}
    wiring = [
        f"{name} -> {dep}"
        for name, deps in graph().items()
        if name.split(".")[1:2] and name.split(".")[1] in stages
        for dep in deps
        if dep.startswith("pipeline.orchestration") or dep in ("pipeline.cli", "pipeline.definitions")
    ]
    assert wiring == []


def test_no_module_is_long():
    long = {name: n for name, path in modules().items() if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_the_docs_name_modules_that_exist():
    import re

    named = set()
    for doc in (ROOT / "README.md", ROOT / "docs" / "layout.md"):
        named |= set(re.findall(r"\bpipeline/[\w/]+\.py\b", doc.read_text(encoding="utf-8")))
    missing = sorted(path for path in named if not (ROOT / path).is_file())
    assert named and missing == []


def test_the_layout_map_names_every_module():
    text = (ROOT / "docs" / "layout.md").read_text(encoding="utf-8")
    unnamed = [
        str(path.relative_to(ROOT))
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "__init__.py" and str(path.relative_to(ROOT)) not in text and f"`{path.name}`" not in text
    ]
    assert unnamed == []
