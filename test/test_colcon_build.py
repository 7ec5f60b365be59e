"""`colcon build` of the package, as on a ROS 2 machine: scripts where `ros2 run` looks, data
where `ros2 launch` and the node look, and the installed CLI deciding from the install space."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
COLCON = Path(sys.executable).parent / 'colcon'


def _tracked_files() -> list[Path]:
    if (ROOT / '.git').exists():
        listed = subprocess.run(['git', 'ls-files', '-co', '--exclude-standard'], cwd=ROOT,
                                capture_output=True, text=True, check=True).stdout.split('\n')
        return [ROOT / f for f in listed if f and (ROOT / f).is_file()]
    return [p for p in ROOT.rglob('*') if p.is_file() and '.venv' not in p.parts]


@pytest.fixture(scope='module')
def install(tmp_path_factory) -> Path:
    if not COLCON.exists():
        pytest.fail(f'colcon is missing from the environment ({COLCON}); run make setup')
    ws = tmp_path_factory.mktemp('ws')
    for path in _tracked_files():
        dest = ws / 'src' / 'ministral_node' / path.relative_to(ROOT)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest)
    result = subprocess.run([str(COLCON), 'build', '--packages-select', 'ministral_node'],
                            cwd=ws, capture_output=True, text=True, timeout=300,
                            env={**os.environ, 'PATH': f'{COLCON.parent}:{os.environ["PATH"]}'})
    assert result.returncode == 0, result.stdout + result.stderr
    return ws / 'install' / 'ministral_node'


def test_scripts_go_where_ros2_run_looks(install):
    scripts = {p.name for p in (install / 'lib' / 'ministral_node').iterdir()}
    assert {'ministral_node', 'ministral-node', 'ministral-decide', 'ministral-demo'} <= scripts


def test_data_goes_to_the_share_directory(install):
    share = install / 'share' / 'ministral_node'
    assert (share / 'package.xml').is_file()
    assert (share / 'config' / 'decision.schema.json').is_file()
    assert (share / 'config' / 'ministral.yaml').is_file()
    assert {p.name for p in (share / 'launch').iterdir()} >= {'ministral.launch.py',
                                                              'sim.launch.py'}
    assert (install / 'share' / 'ament_index' / 'resource_index' / 'packages'
            / 'ministral_node').is_file()
    sources = {p.relative_to(ROOT / 'models') for p in (ROOT / 'models').rglob('*')
               if p.is_file()}
    installed = {p.relative_to(share / 'models') for p in (share / 'models').rglob('*')
                 if p.is_file()} if (share / 'models').exists() else set()
    assert sources == installed


def test_the_installed_cli_decides_from_the_install_space(install):
    site = next((install / 'lib').glob('python3*/site-packages'))
    env = {**os.environ, 'PYTHONPATH': str(site)}
    code = ('import sys, ministral_node.resources as r, ministral_node.cli.decide as d; '
            'print(r.share_dir(), file=sys.stderr); '
            'sys.exit(d.main(["--command", "land", "--decider", "rules"]))')
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                            env=env, cwd=install, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().splitlines()[-1] == str(install / 'share' / 'ministral_node')
    assert json.loads(result.stdout)['action'] == 'land'


def test_the_pictures_font_is_installed_with_the_package(install):
    fonts = list(install.glob('lib/python*/site-packages/ministral_node/sim/fonts/*.ttf'))
    assert [f.name for f in fonts] == ['DejaVuSans-Latin1.ttf']


def test_the_readme_build_finds_the_interfaces_a_plain_build_does_not(tmp_path):
    """colcon does not crawl into a package: the README's base paths add ministral_interfaces
    (and not the px4_msgs/mavros_msgs subsets, which PX4's and MAVROS's own packages replace).
    """
    import re

    readme = (ROOT / 'README.md').read_text()
    base_paths = re.search(r'python -m colcon build --base-paths (.*)', readme).group(1).split()
    (tmp_path / 'src').mkdir()
    (tmp_path / 'src' / 'ministral_node').symlink_to(ROOT)

    def listed(*args: str) -> list[str]:
        result = subprocess.run([str(COLCON), 'list', '--names-only', *args], cwd=tmp_path,
                                capture_output=True, text=True, timeout=120, check=True)
        return sorted(result.stdout.split())

    assert listed() == ['ministral_node']
    assert listed('--base-paths', *base_paths) == ['ministral_interfaces', 'ministral_node']
