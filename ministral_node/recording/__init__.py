"""What the node writes down and reads back: recorder, replay, message definitions, annotations."""
