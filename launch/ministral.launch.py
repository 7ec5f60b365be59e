"""Launch ministral_node: params file, namespace, topic remappings, lifecycle.

    ros2 launch ministral_node ministral.launch.py namespace:=drone1 \
        camera_topic:=/drone1/camera/image_raw pose_topic:=mavros/local_position/pose \
        battery_topic:=mavros/battery

    ros2 launch ministral_node ministral.launch.py execute_missions:=true \
        vehicle_interface:=px4    # or mavros: the node arms, switches modes and flies

Topic arguments left empty keep the node's relative names (`image_raw`, `pose`, `battery`,
`ground_heartbeat`, all in the namespace) and its private `~/command`. With `autostart` false
(argument, or the params file when the argument is empty) the launch drives the lifecycle:
configure, then activate. If the node exits, the launch shuts down; a non-zero exit makes the
launch exit non-zero.
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import (
    DeclareLaunchArgument,
    EmitEvent,
    OpaqueFunction,
    RegisterEventHandler,
    Shutdown,
)
from launch.event_handlers import OnProcessExit
from launch.events import matches_action
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import LifecycleNode
from launch_ros.event_handlers import OnStateTransition
from launch_ros.events.lifecycle import ChangeState
from lifecycle_msgs.msg import Transition

from ministral_node import parameters
from ministral_node.ros.topics import LAUNCH_TOPICS, remappings

TRUE = ('true', '1', 'yes', 'on')


def _autostart(argument: str, params_file: str) -> bool:
    """The launch argument if given, else the params file's value (the node reports a bad
    file itself at configure)."""
    if argument.strip():
        return argument.strip().lower() in TRUE
    try:
        return bool(parameters.load_params_file(params_file)['autostart'])
    except parameters.ParameterError:
        return True


def _node_exited(event, context):
    if context.is_shutdown:  # the launch is stopping (Ctrl-C): nothing more to do
        return []
    if event.returncode:
        raise RuntimeError(f'ministral_node exited with code {event.returncode}; '
                           'see its log above')
    return [Shutdown(reason='ministral_node exited')]


def _launch_node(context):
    def get(name):
        return LaunchConfiguration(name).perform(context)

    params_file = get('params_file')
    autostart = _autostart(get('autostart'), params_file)
    overrides = {'use_sim_time': get('use_sim_time').lower() in TRUE, 'autostart': autostart}
    if get('execute_missions').strip():
        overrides['execute_missions'] = get('execute_missions').strip().lower() in TRUE
    if get('vehicle_interface').strip():
        overrides['vehicle_interface'] = get('vehicle_interface').strip()
    if get('camera_mount_pitch_deg').strip():
        overrides['camera_mount_pitch_deg'] = float(get('camera_mount_pitch_deg'))
    node = LifecycleNode(
        package='ministral_node',
        executable='ministral_node',
        name='ministral_node',
        namespace=get('namespace'),
        output='screen',
        parameters=[params_file, overrides],
        remappings=remappings({argument: get(argument) for argument in LAUNCH_TOPICS}),
        ros_arguments=['--log-level', get('log_level')],
    )
    actions = [node, RegisterEventHandler(OnProcessExit(target_action=node,
                                                        on_exit=_node_exited))]
    if not autostart:
        def change(transition):
            return EmitEvent(event=ChangeState(lifecycle_node_matcher=matches_action(node),
                                               transition_id=transition))
        actions += [
            # Once: a later configure (an operator, a lifecycle manager) must not activate
            # the node behind their back.
            RegisterEventHandler(OnStateTransition(
                target_lifecycle_node=node, start_state='configuring', goal_state='inactive',
                entities=[change(Transition.TRANSITION_ACTIVATE)], handle_once=True)),
            change(Transition.TRANSITION_CONFIGURE),
        ]
    return actions


def generate_launch_description():
    share = get_package_share_directory('ministral_node')
    topics = {
        'camera_topic': 'Camera image (sensor_msgs/Image); its /compressed sibling is used '
                        'when camera_transport is compressed. Empty: image_raw in the '
                        'namespace',
        'command_topic': 'Operator commands (std_msgs/String). Empty: ~/command',
        'pose_topic': 'Vehicle local pose (PoseStamped, ENU, origin at home), e.g. '
                      'mavros/local_position/pose. Empty: pose in the namespace',
        'battery_topic': 'Battery state (sensor_msgs/BatteryState), e.g. mavros/battery. '
                         'Empty: battery in the namespace',
        'heartbeat_topic': 'Ground-station heartbeat (std_msgs/Header). Empty: '
                           'ground_heartbeat in the namespace',
        'setpoint_topic': 'Mission executor setpoints (PoseStamped, with execute_missions), '
                          'e.g. mavros/setpoint_position/local. Empty: setpoint_position in '
                          'the namespace',
    }
    return LaunchDescription([
        DeclareLaunchArgument('params_file',
                              default_value=os.path.join(share, 'config', 'ministral.yaml'),
                              description='ROS 2 parameters file for the node'),
        DeclareLaunchArgument('namespace', default_value='',
                              description='Namespace of the node and its inputs (one per '
                                          'vehicle)'),
        *[DeclareLaunchArgument(name, default_value='', description=text)
          for name, text in topics.items()],
        DeclareLaunchArgument('use_sim_time', default_value='false',
                              description='Follow /clock (simulation)'),
        DeclareLaunchArgument('autostart', default_value='',
                              description='true: the node configures and activates itself; '
                                          'false: this launch drives the lifecycle; empty: '
                                          'as the params file says'),
        DeclareLaunchArgument('execute_missions', default_value='',
                              description='true: fly published decisions (setpoint_position, '
                                          '~/vehicle_command); empty: as the params file says'),
        DeclareLaunchArgument('vehicle_interface', default_value='',
                              choices=['', 'json', 'px4', 'mavros'],
                              description='How missions reach the autopilot: px4 (uXRCE-DDS '
                                          '/fmu topics, px4_msgs), mavros (MAVROS topics and '
                                          'services, mavros_msgs) or json (setpoint_position and '
                                          '~/vehicle_command for your own bridge); empty: as '
                                          'the params file says'),
        DeclareLaunchArgument('camera_mount_pitch_deg', default_value='',
                              description='Camera pitch below the horizon (0 ahead, 90 down), to '
                                          'place targets; empty: as the params file says'),
        DeclareLaunchArgument('log_level', default_value='info', description='Logging level'),
        OpaqueFunction(function=_launch_node),
    ])
