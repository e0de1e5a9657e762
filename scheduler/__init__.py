"""Reminders and deliveries: rules (reminders), outbox, sender, and their JobQueue wiring (jobs)."""
