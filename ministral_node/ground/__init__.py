"""The ground-station side: `ministral-serve`'s OpenAI-compatible server around the engine."""
