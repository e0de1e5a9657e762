"""Fronts through which people talk to the bot: each turns its channel's events into
``handlers.port.Incoming`` and performs the flows' outputs (one package per channel)."""
