"""Operator analytics: an event log of what happened, and the figures computed from it."""
