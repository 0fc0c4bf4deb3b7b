"""Handoff to human agents in Slack: queues, routing, the agent's thread (see docs/architecture.md)."""
