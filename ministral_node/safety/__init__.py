"""Every limit a decision or a flight must respect: the envelope, mission safety, the geofence
and the invariants the simulator checks."""
