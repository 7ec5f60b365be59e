"""Decision sources: the `Decider` protocol (`base`), the onboard model (`onboard`), the
ground-station model (`remote`), the rule parser (`rules`), the `failsafe`, the `prompt` the
model sources share, and the `factory` that builds them from settings."""
