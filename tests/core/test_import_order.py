"""Domains import in one direction only, and no module imports itself round a cycle.

Parsed from the source (every ``import``, at the top of a file or inside a
function, ``TYPE_CHECKING`` blocks included), so a function-local import
cannot hide an upward arrow. The layers are the README's code map.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"

# Lower layers first. A domain may import only from layers below its own: siblings
# stay independent, and what a lower domain must tell a higher one goes through
# its domain events (app.pickups.events).
LAYERS: list[set[str]] = [
    {"config"},
    {"extensions"},
    {"core"},
    {"hubs"},
    {"accounts"},
    {"pickups"},
    # apikeys: an account of its own per key; outbox: the queue of messages to the outside.
    {"labels", "photos", "apikeys", "outbox"},
    {"sync", "dispatch", "portal", "receiving", "driver", "retention"},
    # What is sent to the outside: emails (labels, pickups) and webhooks (the pickup as dispatch's API gives it);
    # the report reads what dispatch planned and what the hub decided, and shows on dispatch's pages.
    {"emails", "webhooks", "reports"},
    {"demo"},
]
# The composition root: create_app wires every domain, models imports every table.
ROOT = {"__init__", "models"}


def _layer(domain: str) -> int:
    for index, layer in enumerate(LAYERS):
        if domain in layer:
            return index
    raise AssertionError(f"app/{domain} is in no layer of tests/core/test_import_order.py: place it in the README's order")


def _module_name(path: Path) -> str:
    parts = ("app", *path.relative_to(APP).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    relative = Path(*name.split(".")[1:])
    return (APP / relative).with_suffix(".py").exists() or (APP / relative / "__init__.py").exists()


def _imports(path: Path) -> list[tuple[str, int]]:
    """Every app module this file imports, with the line it does it on."""
    found: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names if alias.name.startswith("app."))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and node.module.split(".")[0] == "app":
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.append((submodule if _is_module(submodule) else node.module, node.lineno))
    return found


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in APP.rglob("*.py"):
        graph.setdefault(_module_name(path), set()).update(name for name, _ in _imports(path))
    return graph


def _domain(module: str) -> str:
    return module.split(".")[1] if "." in module else "__init__"


def test_every_domain_imports_only_from_lower_layers() -> None:
    upward: list[str] = []
    for path in sorted(APP.rglob("*.py")):
        source = _domain(_module_name(path)) if path.parent != APP else path.stem
        if source in ROOT:
            continue
        for target, line in _imports(path):
            domain = _domain(target)
            if domain != source and _layer(domain) >= _layer(source):
                upward.append(f"{path.relative_to(APP.parent)}:{line} imports {target}")
    assert upward == []


def test_no_module_imports_itself_round_a_cycle() -> None:
    graph = _graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                cycles.append(path[path.index(target):] + [target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    # The package __init__ that only re-exports its parts is not a cycle with them.
    real = [c for c in cycles if not all(m == c[0] or m.startswith(c[0] + ".") or c[0].startswith(m + ".") for m in c)]
    assert real == []


@pytest.mark.parametrize("domain", sorted(set().union(*LAYERS) - {"config", "extensions"}))
def test_every_layered_domain_exists(domain: str) -> None:
    assert (APP / domain).is_dir(), f"LAYERS names app/{domain}, which does not exist"
