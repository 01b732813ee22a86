"""The package's layers read top-down and no module imports itself back (docs/architecture.md).

Imports are read from the source with ``ast`` (module-level and inside functions alike), so a
lazy import inside a function cannot hide a cycle or a layer breach.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "fervision"

# Each layer may import only the layers listed for it (and itself).
BOTTOM = {"core", "errors", "labels"}
ALLOWED = {
    "core": {"core"},
    "errors": set(),
    "labels": set(),
    "models": BOTTOM | {"models"},
    "metrics": BOTTOM,
    "losses": BOTTOM,
    "checkpoint": BOTTOM | {"models"},
    "inference": BOTTOM | {"checkpoint", "models", "data"},
    "onnx_model": BOTTOM,
    "recognizer": BOTTOM | {"checkpoint", "models", "inference", "onnx_model"},
    "data": BOTTOM | {"data"},
    "training": BOTTOM | {"training", "models", "data", "checkpoint", "inference", "onnx_model", "losses", "metrics",
                          "recognizer"},
    "engine": BOTTOM | {"engine", "recognizer", "checkpoint", "models", "inference"},
    "outputs": BOTTOM | {"outputs"},
    "analysis": BOTTOM | {"analysis", "engine", "outputs", "recognizer"},
    "bench": BOTTOM | {"bench", "analysis", "engine", "outputs", "recognizer", "checkpoint", "models", "inference",
                       "onnx_model"},
    "app": BOTTOM | {"app", "analysis", "engine", "outputs", "recognizer"},
    "cli": None,  # the top: anything
    "__init__": None,
    "__main__": None,
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in known)
    return {m for m in found if m in known and m != name}


def _graph() -> dict[str, set[str]]:
    known = _modules()
    return {name: _imports(name, path, known) for name, path in known.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return components


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_no_import_cycles():
    assert _cycles(_graph()) == []


def test_a_cycle_is_found():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("layer", sorted(k for k, v in ALLOWED.items() if v is not None))
def test_layers_only_look_down(layer):
    graph = _graph()
    allowed = ALLOWED[layer]
    assert allowed is not None
    breaches = sorted(f"{m} -> {t}" for m, targets in graph.items() if _layer(m) == layer
                      for t in targets if _layer(t) != layer and _layer(t) not in allowed)
    assert breaches == []


def test_every_layer_is_placed():
    assert {_layer(m) for m in _graph()} <= set(ALLOWED)


def test_nothing_below_the_app_imports_qt():
    for name, path in _modules().items():
        if _layer(name) != "app":
            assert "PySide6" not in path.read_text(), name


def test_import_fervision_and_help_load_no_torch():
    code = ("import sys, fervision; assert 'torch' not in sys.modules, 'import fervision'; "
            "import fervision.cli as c; c.build_parser().format_help(); "
            "assert 'torch' not in sys.modules, 'fervision --help'")
    subprocess.run([sys.executable, "-c", code], check=True)
