"""The layering the code map promises, enforced: only the ROS adapter (and the command-line
tools that drive DDS) import ROS; the engine imports nothing of the decision pipeline."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / 'ministral_node'
ROS_MODULES = {'rclpy', 'std_msgs', 'sensor_msgs', 'geometry_msgs', 'diagnostic_msgs',
               'lifecycle_msgs', 'rcl_interfaces', 'rosgraph_msgs', 'visualization_msgs',
               'builtin_interfaces', 'launch', 'launch_ros'}
# Where ROS may be imported: the adapter, and entry points that talk DDS themselves.
ROS_ALLOWED = ('ros/', 'cli/')
ENGINE_MAY_IMPORT = ('ministral_node.engine', 'ministral_node.timing')


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob('*.py'))


def _imports(path: Path) -> set[str]:
    """Every module `path` imports, at any depth (function-level imports included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def _relative(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


@pytest.mark.parametrize('path', [p for p in _modules()
                                  if not _relative(p).startswith(ROS_ALLOWED)],
                         ids=_relative)
def test_core_modules_import_no_ros(path):
    ros = {name for name in _imports(path) if name.split('.')[0] in ROS_MODULES}
    assert not ros, f'{_relative(path)} imports {sorted(ros)}'


@pytest.mark.parametrize('path', sorted((PACKAGE / 'engine').glob('*.py')), ids=_relative)
def test_the_engine_imports_nothing_of_the_pipeline(path):
    ours = {name for name in _imports(path) if name.startswith('ministral_node')}
    assert all(name.startswith(ENGINE_MAY_IMPORT) for name in ours), \
        f'{_relative(path)} imports {sorted(ours)}'


def test_the_rules_checked_here_find_imports():
    assert 'rclpy' in {n.split('.')[0] for n in _imports(PACKAGE / 'ros' / 'node.py')}
    assert 'ministral_node.engine.model_files' in _imports(PACKAGE / 'engine' / 'engine.py')


# The layers, lowest first: a package or root module imports only from its own layer and the
# layers below it. The root holds shared vocabulary only.
LAYERS = (
    ('timing', 'resources', 'geometry'),
    ('decision', 'health'),
    ('parameters',),
    ('engine', 'inputs'),
    ('decoding', 'safety', 'perception'),
    ('sources', 'mission'),
    ('core', 'vehicle_link'),
    ('recording', 'tools', 'training', 'sim', 'ground'),
    ('ros', 'cli'),
)
LAYER_OF = {unit: i for i, units in enumerate(LAYERS) for unit in units}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix('').parts
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)


MODULES = {_module_name(p): p for p in _modules()}


def _runtime_imports(path: Path) -> set[str]:
    """Our modules `path` imports when it runs (not under `if TYPE_CHECKING:`); `from pkg
    import submodule` counts as the submodule."""
    tree = ast.parse(path.read_text(), str(path))
    typing_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If)
                   and getattr(block.test, 'id', '') == 'TYPE_CHECKING'
                   for n in ast.walk(block)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            submodules = {f'{node.module}.{a.name}' for a in node.names} & set(MODULES)
            found |= submodules or {node.module}
    return {name for name in found if name in MODULES and name != 'ministral_node'}


def _unit(module: str) -> str:
    return module.split('.')[1]


GRAPH = {name: _runtime_imports(path) - {name} for name, path in MODULES.items()
         if name != 'ministral_node'}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_every_package_and_root_module_has_a_layer():
    units = {_unit(name) for name in GRAPH}
    assert units == set(LAYER_OF), f'no layer: {sorted(units - set(LAYER_OF))}; ' \
                                   f'gone: {sorted(set(LAYER_OF) - units)}'


def test_the_root_holds_shared_vocabulary_only():
    root = {p.stem for p in PACKAGE.glob('*.py') if p.stem != '__init__'}
    assert root == {'timing', 'resources', 'geometry', 'decision', 'health', 'parameters'}


def test_no_import_goes_up_a_layer():
    upward = sorted(f'{a} -> {b}' for a, targets in GRAPH.items() for b in targets
                    if LAYER_OF[_unit(b)] > LAYER_OF[_unit(a)])
    assert not upward, upward


def test_no_import_circle_between_modules_or_packages():
    assert not _cycles(GRAPH)
    packages: dict[str, set[str]] = {}
    for a, targets in GRAPH.items():
        packages.setdefault(_unit(a), set()).update(_unit(b) for b in targets)
    assert not _cycles({unit: targets - {unit} for unit, targets in packages.items()})


def test_no_two_modules_share_a_name():
    names = [p.name for p in _modules() if p.name != '__init__.py']
    assert sorted({n for n in names if names.count(n) > 1}) == []


def _private_imports(source: str) -> list[str]:
    """The private names (`_name`) `source` imports from our modules."""
    return [f'{node.module}.{alias.name}' for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.ImportFrom)
            and (node.module or '').startswith('ministral_node')
            for alias in node.names
            if alias.name.startswith('_') and not alias.name.startswith('__')]


def test_no_module_imports_a_private_name_of_another():
    assert _private_imports('from ministral_node.sources.rules.parser import (a, _b)\n') == \
        ['ministral_node.sources.rules.parser._b']
    found = {str(path.relative_to(PACKAGE)): names for path in _modules()
             if (names := _private_imports(path.read_text()))}
    assert not found, found


def test_the_layer_rules_see_a_circle_and_an_upward_import():
    assert _cycles({'a': {'b'}, 'b': {'c'}, 'c': {'a'}, 'd': {'a'}}) == [['a', 'b', 'c']]
    assert 'ministral_node.core.pipeline' in GRAPH['ministral_node.recording.replayer']
    assert LAYER_OF['core'] > LAYER_OF['sources'] > LAYER_OF['decoding']
    # a typing-only import is no arrow: scoring names the simulator only for type hints
    assert 'ministral_node.sim.simulator' not in GRAPH['ministral_node.sim.scoring']
