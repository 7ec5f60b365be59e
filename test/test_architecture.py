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
