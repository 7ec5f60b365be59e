"""Turning model output into a decision: constrained decoding, its grammar, confidence, the
chat API of remote servers."""
