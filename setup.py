"""ament_python package setup for ministral_node."""

import os
from glob import glob

from setuptools import find_packages, setup

PACKAGE = 'ministral_node'


def share_tree(folder: str) -> list:
    """data_files entries installing `folder` (recursively) under share/<package>/."""
    entries = []
    for root, _dirs, files in os.walk(folder):
        paths = [os.path.join(root, f) for f in files if not f.startswith('.')]
        if paths:
            entries.append((os.path.join('share', PACKAGE, root), paths))
    return entries


def requirements(name: str) -> list:
    with open(os.path.join('requirements', name), encoding='utf-8') as handle:
        return [line.strip() for line in handle
                if line.strip() and not line.startswith(('#', '-r'))]


setup(
    name=PACKAGE,
    version='0.1.0',
    packages=find_packages(exclude=['test', 'test.*']),
    package_data={'ministral_node.sim': ['fonts/*']},  # the pictures' font and its licence
    data_files=[
        ('share/ament_index/resource_index/packages', [f'resource/{PACKAGE}']),
        (f'share/{PACKAGE}', ['package.xml']),
        (f'share/{PACKAGE}/launch', glob('launch/*.launch.py')),
        *share_tree('config'),
        *share_tree('models'),
    ],
    # Under colcon the system provides ROS and rosdep the rest (see package.xml); pip users
    # install the pinned sets in requirements/ or an extra below.
    install_requires=['setuptools'],
    extras_require={
        'runtime': requirements('runtime.txt'),
        'ros': requirements('ros.txt'),
        'train': requirements('train.txt'),
        'bench': requirements('bench.txt'),
    },
    zip_safe=True,
    maintainer='ministral_node developers',
    maintainer_email='dev@ministral-node.dev',
    description='Onboard Ministral 3 vision-language decision node for drones and robots.',
    license='Apache-2.0',
    tests_require=['pytest'],
    entry_points={
        'console_scripts': [
            'ministral-node = ministral_node.ros.main:main',
            'ministral_node = ministral_node.ros.main:main',
            'ministral-decide = ministral_node.cli.decide:main',
            'ministral-demo = ministral_node.cli.demo:main',
            'ministral-bench = ministral_node.cli.bench:main',
            'ministral-optimize = ministral_node.tools.optimize:main',
            'ministral-serve = ministral_node.cli.serve:main',
            'ministral-soak = ministral_node.cli.soak:main',
            'ministral-replay = ministral_node.cli.replay:main',
            'ministral-sim = ministral_node.cli.sim:main',
            'ministral-train = ministral_node.training.train:main',
            'ministral-export = ministral_node.training.export:main',
            'ministral-eval = ministral_node.cli.ministral_eval:main',
            'ministral-detector = ministral_node.cli.sim_detector:main',
            'ministral-fuzz = ministral_node.tools.fuzz:main',
        ],
    },
)
