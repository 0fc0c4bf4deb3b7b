"""Handoff to human agents in Slack: queues, routing, the agent's thread."""
