"""`ministral-node`: run the node like `ros2 run` (this is also the launch files' executable).

Exit codes: 0 after a normal shutdown; 2 when a parameters file or a parameter is refused
(before ROS starts for files we can read, at configure for every other way a value arrives);
3 when `vehicle_interface` (px4, mavros) needs a message package that is not installed.
"""

from __future__ import annotations

import argparse
import sys

from ministral_node import parameters


def _split_ros_args(argv: list[str]) -> tuple[list[str], list[str]]:
    if '--ros-args' not in argv:
        return argv, []
    at = argv.index('--ros-args')
    return argv[:at], argv[at:]


def params_files(ros_args: list[str]) -> list[str]:
    """The files given with `--params-file` among ROS arguments."""
    return [ros_args[i + 1] for i, arg in enumerate(ros_args[:-1]) if arg == '--params-file']


def check_params_files(paths: list[str], node_name: str = parameters.NODE_NAME) -> list[str]:
    """Every problem of the files' sections for the node, one line each."""
    found: list[str] = []
    for path in paths:
        try:
            parameters.load_params_file(path, node_name)
        except parameters.ParameterError as exc:
            found.extend(str(exc).splitlines())
    return found


def main(argv: list[str] | None = None) -> int:
    """Run the node until shutdown; see the module docstring for exit codes."""
    ours, ros_args = _split_ros_args(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog='ministral-node',
        description='Run the ministral_node lifecycle node. Arguments after --ros-args go to '
                    'ROS (remappings, -p name:=value, --params-file).')
    parser.add_argument('--params-file', default=None,
                        help='ROS 2 parameters YAML; without one every parameter has its '
                             'declared default (the values of config/ministral.yaml)')
    args = parser.parse_args(ours)
    ros_args = ros_args or ['--ros-args']
    if args.params_file is not None:
        ros_args = [ros_args[0], '--params-file', args.params_file, *ros_args[1:]]
    problems = check_params_files(params_files(ros_args))
    if problems:
        for line in problems:
            print(f'ministral-node: {line}', file=sys.stderr)
        return 2

    import rclpy
    from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor

    from ministral_node.ros.node import EXIT_MISSING_PACKAGE, MinistralNode

    with rclpy.init(args=['ministral-node', *ros_args]):
        node = MinistralNode()
        # 4 for the node's callback groups, 1 more for a command action goal waiting on its
        # decision and mission (each goal waits in a thread of its own).
        executor = MultiThreadedExecutor(num_threads=5)
        executor.add_node(node)
        try:
            # Refused parameters are reported by configure, whatever autostart says. Ctrl-C
            # while the models load is a clean stop too.
            if node.get_parameter('autostart').value is True or node.parameter_problems():
                node.trigger_configure()
                if not node.done.done():
                    node.trigger_activate()
            executor.spin_until_future_complete(node.done)
        except (KeyboardInterrupt, ExternalShutdownException):
            pass
        finally:
            code = node.done.result() if node.done.done() else 0
            if code:
                why = 'a message package is missing' if code == EXIT_MISSING_PACKAGE \
                    else 'parameters refused'
                print(f'ministral-node: stopped: {why} (exit {code})', file=sys.stderr)
            node.finish()
            node.destroy_node()
    return code


if __name__ == '__main__':
    sys.exit(main())
