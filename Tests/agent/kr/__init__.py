"""Helpers for the agent's pytest suite: disk images, running the agent, sandbox, leak checks."""
