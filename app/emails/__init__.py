"""Emails to customers: what happens to their pickup, written with the change, sent by the outbox worker."""
