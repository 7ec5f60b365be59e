"""Simulation: ministral_node on a PX4 SITL vehicle in Gazebo, camera and clock via ros_gz_bridge.

Start PX4 SITL with a camera model first (`make px4_sitl gz_x500_mono_cam`), and MAVROS
(`ros2 launch mavros px4.launch fcu_url:=udp://:14540@127.0.0.1:14557`), then:

    ros2 launch ministral_node sim.launch.py

or, over PX4's own ROS 2 interface (`MicroXRCEAgent udp4 -p 8888` instead of MAVROS):

    ros2 launch ministral_node sim.launch.py vehicle_interface:=px4

The bridged camera is /world/<world>/model/<model>/link/<camera_link>/sensor/<camera_sensor>/
image (current PX4-gazebo-models: camera_link/camera; Feb-Oct 2025 models: camera_sensor:=
imager). Every ministral.launch.py argument passes through; use_sim_time defaults to true.
Needs ros_gz_bridge (`sudo apt install ros-$ROS_DISTRO-ros-gz-bridge`); bridge:=false leaves
the bridge to you. The node executes missions through `vehicle_interface` (mavros: setpoints on
/mavros/setpoint_position/local, OFFBOARD, arming and AUTO.* modes by MAVROS's services; px4:
/fmu/in and /fmu/out; json: setpoint_position and ~/vehicle_command for a bridge of your own).
If the bridge or the node exits, the launch shuts down.
"""

import os

from ament_index_python.packages import (
    PackageNotFoundError,
    get_package_prefix,
    get_package_share_directory,
)
from launch import LaunchDescription
from launch.actions import (
    DeclareLaunchArgument,
    IncludeLaunchDescription,
    OpaqueFunction,
    RegisterEventHandler,
    Shutdown,
)
from launch.event_handlers import OnProcessExit
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

PASSED_THROUGH = {
    'params_file': None,  # ministral.launch.py's default
    'namespace': '',
    'camera_topic': '/camera/image_raw',
    'command_topic': '',
    'pose_topic': '/mavros/local_position/pose',
    'battery_topic': '/mavros/battery',
    'heartbeat_topic': '',
    'setpoint_topic': '/mavros/setpoint_position/local',
    'use_sim_time': 'true',
    'autostart': '',
    'log_level': 'info',
    'execute_missions': 'true',  # the node flies its missions
    'vehicle_interface': 'mavros',  # through MAVROS: handshake, modes, arming (px4: uXRCE-DDS)
    'camera_mount_pitch_deg': '0',  # the x500_mono_cam camera looks ahead
}


def camera_gz_topic(world: str, model: str, link: str, sensor: str) -> str:
    """The Gazebo topic of a PX4 model's camera image."""
    return f'/world/{world}/model/{model}/link/{link}/sensor/{sensor}/image'


def _bridge(context):
    def get(name):
        return LaunchConfiguration(name).perform(context)

    if get('bridge').lower() not in ('true', '1', 'yes', 'on'):
        return []
    try:
        get_package_prefix('ros_gz_bridge')
    except PackageNotFoundError:
        raise RuntimeError('ros_gz_bridge is not installed: sudo apt install '
                           'ros-$ROS_DISTRO-ros-gz-bridge (or pass bridge:=false and bridge '
                           'the camera and /clock yourself)') from None
    image = camera_gz_topic(get('world'), get('model'), get('camera_link'), get('camera_sensor'))
    info = image.rsplit('/', 1)[0] + '/camera_info'
    camera = get('camera_topic')
    bridge = Node(
        package='ros_gz_bridge',
        executable='parameter_bridge',
        name='camera_bridge',
        namespace=get('namespace'),
        output='screen',
        arguments=[
            f'{image}@sensor_msgs/msg/Image[gz.msgs.Image',
            f'{info}@sensor_msgs/msg/CameraInfo[gz.msgs.CameraInfo',
            '/clock@rosgraph_msgs/msg/Clock[gz.msgs.Clock',
        ],
        remappings=[(image, camera), (info, camera.rsplit('/', 1)[0] + '/camera_info')],
    )
    return [bridge, RegisterEventHandler(OnProcessExit(
        target_action=bridge, on_exit=[Shutdown(reason='camera bridge exited')]))]


def generate_launch_description():
    share = get_package_share_directory('ministral_node')
    return LaunchDescription([
        DeclareLaunchArgument('world', default_value='default',
                              description='Gazebo world name (PX4_GZ_WORLD)'),
        DeclareLaunchArgument('model', default_value='x500_mono_cam_0',
                              description='Gazebo model instance of the vehicle'),
        DeclareLaunchArgument('camera_link', default_value='camera_link',
                              description='Link of the camera in the model'),
        DeclareLaunchArgument('camera_sensor', default_value='camera',
                              description='Camera sensor name (imager for Feb-Oct 2025 PX4 '
                                          'models)'),
        DeclareLaunchArgument('bridge', default_value='true',
                              description='Start ros_gz_bridge for the camera and /clock'),
        *[DeclareLaunchArgument(name, default_value=default) for name, default
          in PASSED_THROUGH.items() if default is not None],
        DeclareLaunchArgument('params_file',
                              default_value=os.path.join(share, 'config', 'ministral.yaml'),
                              description='ROS 2 parameters file for the node'),
        OpaqueFunction(function=_bridge),
        IncludeLaunchDescription(
            PythonLaunchDescriptionSource(os.path.join(share, 'launch', 'ministral.launch.py')),
            launch_arguments={name: LaunchConfiguration(name)
                              for name in PASSED_THROUGH}.items(),
        ),
    ])
