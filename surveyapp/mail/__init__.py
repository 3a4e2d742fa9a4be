"""Mail: invitations and reminders queued in the outbox, delivered by a separate worker.

Queueing (services.py) happens inside the caller's transaction; delivery (delivery.py)
runs outside any request with its own transactions, so a mail goes out only after the
transaction that caused it has committed.
"""
