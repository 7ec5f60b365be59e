"""What the node reads: camera frames, operator commands, the vehicle's state."""
