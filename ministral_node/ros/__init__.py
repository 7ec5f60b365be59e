"""The ROS 2 adapter: the lifecycle node (`node`) and its entry point (`main`).

The only package that imports rclpy; everything it calls lives in the ROS-free core."""
