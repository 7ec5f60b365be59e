"""Headless closed-loop simulation (no ROS): a PyBullet world of the training scenes' objects, a
multirotor that follows setpoints and autopilot commands, a camera, faults, a scored scenario
suite and pictures. `ministral_node.ros.sim_over_dds` exposes it over DDS as a vehicle.
"""
