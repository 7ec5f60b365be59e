"""`ministral-node`: start the node with a params file and ROS arguments (like `ros2 run`)."""

from __future__ import annotations

import argparse
import sys

from ministral_node import parameters
from ministral_node.resources import config_path


def _split_ros_args(argv: list[str]) -> tuple[list[str], list[str]]:
    if '--ros-args' not in argv:
        return argv, []
    at = argv.index('--ros-args')
    return argv[:at], argv[at:]


def main(argv: list[str] | None = None) -> int:
    """Run the node until shutdown; exit code 2 on an unusable params file."""
    ours, ros_args = _split_ros_args(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog='ministral-node',
        description='Run the ministral_node lifecycle node. Arguments after --ros-args go to '
                    'ROS (remappings, -p name:=value, more --params-file).')
    parser.add_argument('--params-file', default=str(config_path('ministral.yaml')),
                        help='ROS 2 parameters YAML (default: the package config/ministral.yaml)')
    args = parser.parse_args(ours)
    try:
        parameters.load_params_file(args.params_file)
    except parameters.ParameterError as exc:
        print(f'ministral-node: {exc}', file=sys.stderr)
        return 2

    import rclpy
    from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor

    from ministral_node.ros.node import MinistralNode

    if not ros_args:
        ros_args = ['--ros-args']
    ros_args = ros_args[:1] + ['--params-file', args.params_file] + ros_args[1:]
    with rclpy.init(args=['ministral-node', *ros_args]):
        node = MinistralNode()
        executor = MultiThreadedExecutor(num_threads=4)
        executor.add_node(node)
        if node.values['autostart']:
            node.trigger_configure()
            node.trigger_activate()
        try:
            executor.spin()
        except (KeyboardInterrupt, ExternalShutdownException):
            pass
        finally:
            node.destroy_node()
    return 0


if __name__ == '__main__':
    sys.exit(main())
