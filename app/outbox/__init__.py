"""The transactional outbox: every message to the outside is a row written with the change that caused it."""
