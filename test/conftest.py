"""Test-wide guards: ROS traffic stays on loopback, each ROS test gets its own domain."""

import os

# Set before anything imports rclpy: discovery never leaves the loopback interface.
os.environ['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'
os.environ.setdefault('ROS_DOMAIN_ID', str(1 + os.getpid() % 100))
