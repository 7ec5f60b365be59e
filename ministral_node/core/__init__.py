"""The decision loop and what it is made of: pipeline, fallback chain, watchdog, settings
and parameters, health."""
