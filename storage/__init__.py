"""Persistence: models, sessions, services, evidence files and migrations."""
