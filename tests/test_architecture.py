"""The layout's rules, checked on the source (README, "Layout"): who may import whom, no import
cycles (imports inside functions count too), and modules small enough to read at once."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PRODUCT_APPS = ("shipments", "tracking", "connect", "notify", "hooks", "resync_site")
APPS = (*PRODUCT_APPS, "carrier_sandbox")
MAX_LINES = 400


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _source_files() -> dict[str, Path]:
    """Every module of the apps except tests and migrations."""
    files = {}
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            rel = path.relative_to(ROOT).parts
            if "tests" in rel or "migrations" in rel:
                continue
            files[_module_name(path)] = path
    return files


FILES = _source_files()


def _resolve(module: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node that runs: all of them but the bodies of `if TYPE_CHECKING:`."""
    nodes: list[ast.AST] = []
    todo = [tree]
    while todo:
        node = todo.pop()
        nodes.append(node)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))
    return nodes


def imports_of(module: str) -> set[str]:
    """The modules `module` imports when it runs, anywhere in its body (functions included)."""
    path = FILES[module]
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, path, node)
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                found.add(submodule if submodule in FILES else target)
    return found


GRAPH = {module: {m for m in imports_of(module) if m in FILES} for module in FILES}


def _cycles() -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in GRAPH[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in GRAPH:
        if node not in index:
            visit(node)
    return found


def _importers(prefix: str) -> dict[str, set[str]]:
    return {
        module: {m for m in imports_of(module) if m == prefix or m.startswith(prefix + ".")}
        for module in FILES
    }


def test_the_checker_sees_imports_inside_functions():
    # carrier_sandbox.apps registers the sandbox's adapter from inside `ready()`.
    assert "shipments.carriers.registry" in imports_of("carrier_sandbox.apps")


def test_no_import_cycles():
    assert _cycles() == []


def test_no_product_app_imports_the_sandbox():
    offenders = {
        module: targets
        for module, targets in _importers("carrier_sandbox").items()
        if module.split(".")[0] in PRODUCT_APPS and targets
    }
    assert offenders == {}


@pytest.mark.parametrize(
    ("module_prefix", "forbidden"),
    [
        # Adapters know no ORM and no product layer above them.
        ("shipments.carriers", ("django.db", "shipments.models", "shipments.services")),
        ("shipments.carriers", ("shipments.tasks", "shipments.selectors", "tracking")),
        # The catalogue and the statuses are read by settings: free of Django altogether.
        ("shipments.carriers.catalogue", ("django",)),
        ("shipments.carriers.statuses", ("django",)),
        # Services never reach up to the interfaces; tasks are sent by name, never imported.
        ("shipments.services", ("shipments.tasks", "shipments.views", "tracking", "django.http")),
        ("shipments.selectors", ("shipments.services", "shipments.tasks", "django.http")),
        ("tracking.selectors", ("shipments.services", "shipments.tasks", "django.http")),
        ("shipments.models", ("shipments.services", "shipments.selectors")),
        # The ways in (webhooks, API, CSV) build on the domain; the domain knows none of them.
        ("shipments", ("connect",)),
        ("tracking", ("connect",)),
        ("connect.services", ("django.http", "connect.views", "connect.api")),
        # Shopper e-mails listen to the domain's signal; the domain never knows about them.
        ("shipments", ("notify",)),
        ("tracking", ("notify",)),
        ("notify.services", ("notify.tasks", "notify.views", "notify.settings_views")),
        ("notify.services", ("django.http",)),
        ("notify.selectors", ("notify.services", "notify.tasks", "django.http")),
        # Webhooks out listen to the domain's signal; the domain knows nothing of them.
        ("shipments", ("hooks",)),
        ("tracking", ("hooks",)),
        ("hooks.services", ("django.http", "hooks.views", "hooks.tasks")),
    ],
)
def test_allowed_directions(module_prefix: str, forbidden: tuple[str, ...]):
    offenders = {}
    for module in FILES:
        if module != module_prefix and not module.startswith(module_prefix + "."):
            continue
        bad = {
            m for m in imports_of(module) if any(m == f or m.startswith(f + ".") for f in forbidden)
        }
        if bad:
            offenders[module] = bad
    assert offenders == {}


@pytest.mark.parametrize("tasks", ["shipments.tasks", "notify.tasks"])
def test_only_the_worker_loads_the_tasks(tasks: str):
    importers = {m for m, targets in _importers(tasks).items() if targets}
    assert importers == set()


def test_product_modules_are_small_enough_to_read_at_once():
    sizes = {
        module: len(path.read_text().splitlines())
        for module, path in FILES.items()
        if module.split(".")[0] in PRODUCT_APPS
    }
    assert {m: n for m, n in sizes.items() if n > MAX_LINES} == {}
