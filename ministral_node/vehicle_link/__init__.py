"""The vehicle link: what the node says to an autopilot, and how (issue 28).

ROS-free protocol core; the ROS adapters only move these plain values onto messages.

- `frames`: ENU <-> NED positions, velocities and yaw, the local origin, microsecond stamps.
- `vocabulary`: the autopilot-neutral words (modes, status, acknowledgements, commands).
- `offboard`: the offboard handshake and takeover rules, one state machine for every autopilot.
- `px4`: translation to and from PX4's uXRCE-DDS messages (px4_msgs, PX4 v1.15/v1.16).
- `mavros`: translation to and from MAVROS 2.x (mavros_msgs), PX4 and ArduPilot mode names.
- `sim_autopilot`: a simulated PX4 commander that behaves as PX4 documents, with faults.
- `executor_bridge`: the mission executor's output mapped onto the link.
"""
