"""Locate the package's installed data: `config/`, `models/` and `launch/`."""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

PACKAGE_NAME = 'ministral_node'


@lru_cache(maxsize=1)
def share_dir() -> Path:
    """Directory holding `config/`, `models/` and `launch/`.

    Looked up in the source tree first (development and editable installs), then in the
    install prefix the package sits in (`colcon build`, `pip install`), then through the
    ament index.
    """
    package = Path(__file__).resolve().parent
    source_tree = package.parent
    # <prefix>/lib/pythonX.Y/site-packages/ministral_node: colcon and `pip --prefix` installs
    install_prefix = package.parents[3] if len(package.parents) > 3 else source_tree
    candidates = [source_tree, install_prefix / 'share' / PACKAGE_NAME,
                  Path(sys.prefix) / 'share' / PACKAGE_NAME]
    try:
        from ament_index_python.packages import get_package_share_directory

        candidates.append(Path(get_package_share_directory(PACKAGE_NAME)))
    except Exception:  # noqa: BLE001 - ament is optional; any failure means 'not there'
        pass
    for candidate in candidates:
        if (candidate / 'config' / 'decision.schema.json').is_file():
            return candidate
    raise FileNotFoundError(
        f'cannot find the {PACKAGE_NAME} share directory (config/decision.schema.json) in: '
        + ', '.join(str(c) for c in candidates))


def config_path(name: str) -> Path:
    """Path of a file in the package's `config/` directory."""
    return share_dir() / 'config' / name


def models_dir() -> Path:
    """The package's `models/` directory."""
    return share_dir() / 'models'
