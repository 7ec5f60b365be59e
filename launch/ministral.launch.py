"""Launch ministral_node: params file, camera and command remappings, namespace.

    ros2 launch ministral_node ministral.launch.py camera_topic:=/camera/image_raw \
        command_topic:=/mission/command pose_topic:=/mavros/local_position/pose \
        battery_topic:=/mavros/battery namespace:=drone1
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration, PythonExpression
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue


def generate_launch_description():
    share = get_package_share_directory('ministral_node')
    params_file = LaunchConfiguration('params_file')
    camera_topic = LaunchConfiguration('camera_topic')
    use_sim_time = LaunchConfiguration('use_sim_time')
    return LaunchDescription([
        DeclareLaunchArgument('params_file',
                              default_value=os.path.join(share, 'config', 'ministral.yaml'),
                              description='ROS 2 parameters file for the node'),
        DeclareLaunchArgument('namespace', default_value='',
                              description='Namespace of the node (one per vehicle)'),
        DeclareLaunchArgument('camera_topic', default_value='/camera/image_raw',
                              description='Camera image topic (sensor_msgs/Image); its '
                                          '/compressed sibling is used when camera_transport '
                                          'is compressed'),
        DeclareLaunchArgument('command_topic', default_value='/mission/command',
                              description='Operator command topic (std_msgs/String)'),
        DeclareLaunchArgument('pose_topic', default_value='/mavros/local_position/pose',
                              description='Vehicle local pose (geometry_msgs/PoseStamped, ENU, '
                                          'origin at home) for the safety envelope'),
        DeclareLaunchArgument('battery_topic', default_value='/mavros/battery',
                              description='Battery state (sensor_msgs/BatteryState)'),
        DeclareLaunchArgument('heartbeat_topic', default_value='/ground/heartbeat',
                              description='Ground-station heartbeat (std_msgs/Header); the '
                                          'link is lost after link_loss_timeout_s without one'),
        DeclareLaunchArgument('use_sim_time', default_value='false',
                              description='Use /clock (simulation)'),
        DeclareLaunchArgument('log_level', default_value='info',
                              description='Logging level'),
        Node(
            package='ministral_node',
            executable='ministral_node',
            name='ministral_node',
            namespace=LaunchConfiguration('namespace'),
            output='screen',
            parameters=[
                params_file,
                {'use_sim_time': ParameterValue(use_sim_time, value_type=bool)},
            ],
            remappings=[
                ('image_raw', camera_topic),
                ('image_raw/compressed', PythonExpression(["'", camera_topic,
                                                          "' + '/compressed'"])),
                ('~/command', LaunchConfiguration('command_topic')),
                ('pose', LaunchConfiguration('pose_topic')),
                ('battery', LaunchConfiguration('battery_topic')),
                ('ground_heartbeat', LaunchConfiguration('heartbeat_topic')),
            ],
            ros_arguments=['--log-level', LaunchConfiguration('log_level')],
        ),
    ])
