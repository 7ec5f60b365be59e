"""Developer tools: test-model builder and the like (not needed on the vehicle)."""
