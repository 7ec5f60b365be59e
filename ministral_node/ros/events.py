"""QoS event handling shared by every publisher and subscription the node and its vehicle link
create."""

from rclpy.event_handler import PublisherEventCallbacks, SubscriptionEventCallbacks

# No QoS event handlers: rclpy's default ones race with destroying their entity on cleanup
# while an executor thread builds its wait set (InvalidHandle kills the executor; seen in
# `ministral-soak --lifecycle-cycles 20`). A silent camera is diagnosed by the loop instead.
NO_SUBSCRIPTION_EVENTS = SubscriptionEventCallbacks(use_default_callbacks=False)
NO_PUBLISHER_EVENTS = PublisherEventCallbacks(use_default_callbacks=False)
