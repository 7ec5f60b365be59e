"""Simulation: ministral_node fed by a PX4 x500_mono_cam camera in Gazebo via ros_gz_bridge.

Start PX4 SITL first (`make px4_sitl gz_x500_mono_cam`), then:

    ros2 launch ministral_node sim.launch.py
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription, OpaqueFunction
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

CAMERA_TOPIC = '/camera/image_raw'


def _bridge(context):
    """The ros_gz_bridge node for the camera and the simulation clock."""
    world = LaunchConfiguration('world').perform(context)
    model = LaunchConfiguration('model').perform(context)
    sensor = f'/world/{world}/model/{model}/link/mono_cam/base_link/sensor/imager'
    return [Node(
        package='ros_gz_bridge',
        executable='parameter_bridge',
        name='camera_bridge',
        output='screen',
        arguments=[
            f'{sensor}/image@sensor_msgs/msg/Image[gz.msgs.Image',
            f'{sensor}/camera_info@sensor_msgs/msg/CameraInfo[gz.msgs.CameraInfo',
            '/clock@rosgraph_msgs/msg/Clock[gz.msgs.Clock',
        ],
        remappings=[
            (f'{sensor}/image', CAMERA_TOPIC),
            (f'{sensor}/camera_info', '/camera/camera_info'),
        ],
    )]


def generate_launch_description():
    share = get_package_share_directory('ministral_node')
    return LaunchDescription([
        DeclareLaunchArgument('world', default_value='default',
                              description='Gazebo world name (PX4_GZ_WORLD)'),
        DeclareLaunchArgument('model', default_value='x500_mono_cam_0',
                              description='Gazebo model instance of the vehicle'),
        DeclareLaunchArgument('params_file',
                              default_value=os.path.join(share, 'config', 'ministral.yaml'),
                              description='ROS 2 parameters file for the node'),
        DeclareLaunchArgument('command_topic', default_value='/mission/command',
                              description='Operator command topic (std_msgs/String)'),
        OpaqueFunction(function=_bridge),
        IncludeLaunchDescription(
            PythonLaunchDescriptionSource(os.path.join(share, 'launch', 'ministral.launch.py')),
            launch_arguments={
                'params_file': LaunchConfiguration('params_file'),
                'camera_topic': CAMERA_TOPIC,
                'command_topic': LaunchConfiguration('command_topic'),
                'use_sim_time': 'true',
            }.items(),
        ),
    ])
