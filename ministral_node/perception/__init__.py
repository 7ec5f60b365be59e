"""Perception beside language: an object detector on the decision's frame (`detector`) and the
resolution of a decision's named target to what it found (`grounding`). No ROS here."""
