"""Merge point for the labels and sync migrations (both follow 0001_foundation).

Only needed in branches that merged both before the lead re-chained them; drop
it when 0002_labels and 0002_sync are put in one line.

Revision ID: 0003_merge_labels_sync
Revises: 0002_labels, 0002_sync
"""
from __future__ import annotations

revision = "0003_merge_labels_sync"
down_revision = ("0002_labels", "0002_sync")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
