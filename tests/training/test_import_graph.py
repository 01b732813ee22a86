"""The training, model and data layers import one way: no cycle among their modules, counting imports
inside functions too, and none of them reaches up into the engine, the outputs or the app."""

import ast
from pathlib import Path

import fervision

PACKAGE = Path(fervision.__file__).parent
LAYERS = ("fervision.training", "fervision.models", "fervision.data")
ABOVE = ("fervision.engine", "fervision.outputs", "fervision.app")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, name: str) -> set[str]:
    """Every fervision module ``path`` imports, at module level or in a function."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {m for m in found if m.startswith("fervision")}


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: {m for m in _imports(path, name) if m in modules and m != name} for name, path in modules.items()}


def test_no_import_cycle_in_the_training_model_and_data_layers():
    graph = _graph()
    ours = {m for m in graph if m.startswith(LAYERS)}

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            m = todo.pop()
            for n in graph[m] & ours:
                if n == goal:
                    return True
                if n not in seen:
                    seen.add(n)
                    todo.append(n)
        return False

    cyclic = sorted(m for m in ours if reaches(m, m))
    assert cyclic == []


def test_training_models_and_data_never_import_the_engine_outputs_or_app():
    wrong = {m: sorted(t for t in targets if t.startswith(ABOVE))
             for m, targets in _graph().items() if m.startswith(LAYERS)}
    assert {m: t for m, t in wrong.items() if t} == {}
