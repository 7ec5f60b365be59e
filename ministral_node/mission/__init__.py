"""Mission execution without ROS: the executor state machine, step plans and projections."""
