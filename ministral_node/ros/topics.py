"""The node's topics and how launch arguments remap them (shared by the launch files and the
tests, so the README's examples are checked against what a launch really does).

Inputs are relative (`image_raw`, `pose`, `battery`, `ground_heartbeat`) so a `namespace`
separates vehicles (and so are the executor's `setpoint_position` out and `camera_info` in);
the node's own interface is private (`~/command`, `~/decision`, `~/status`,
`~/vehicle_command`, `~/mission`). A launch argument left empty keeps the node's name; any
other value remaps it (absolute names stay absolute, relative ones resolve in the namespace).
"""

from __future__ import annotations

from collections.abc import Mapping

# launch argument -> the node's topic it remaps
LAUNCH_TOPICS: dict[str, str] = {
    'camera_topic': 'image_raw',
    'command_topic': '~/command',
    'pose_topic': 'pose',
    'battery_topic': 'battery',
    'heartbeat_topic': 'ground_heartbeat',
    'setpoint_topic': 'setpoint_position',
}


def remappings(arguments: Mapping[str, str]) -> list[tuple[str, str]]:
    """Remapping rules for the given launch arguments (empty ones keep the node's topic).

    The camera's compressed sibling follows `camera_topic` (`<camera_topic>/compressed`).
    """
    rules: list[tuple[str, str]] = []
    for argument, topic in LAUNCH_TOPICS.items():
        value = str(arguments.get(argument, '') or '').strip()
        if not value or value == topic:
            continue
        rules.append((topic, value))
        if argument == 'camera_topic':  # siblings, as image_transport names them
            image = value.rstrip('/')
            rules.append(('image_raw/compressed', f'{image}/compressed'))
            if '/' in image:
                rules.append(('camera_info', f'{image.rpartition("/")[0]}/camera_info'))
    return rules


def ros_arguments(namespace: str, arguments: Mapping[str, str]) -> list[str]:
    """The `--ros-args` a launch with these arguments gives the node (for tests and
    `ministral-node` users who want the launch file's behaviour without launch)."""
    args = ['--ros-args']
    if namespace.strip('/'):
        args += ['-r', f'__ns:=/{namespace.strip("/")}']
    for source, target in remappings(arguments):
        args += ['-r', f'{source}:={target}']
    return args
