"""Imports every domain's models, so SQLAlchemy's metadata and Alembic see all tables."""
from app.accounts.models import User  # noqa: F401
from app.apikeys.models import ApiKey  # noqa: F401
from app.dispatch.models import CsvImport  # noqa: F401
from app.hubs.models import Hub  # noqa: F401
from app.labels.models import CustomerToken  # noqa: F401
from app.outbox.models import OutboxMessage  # noqa: F401
from app.photos.models import Photo, PhotoLink  # noqa: F401
from app.pickups.models import ChangeCounter, DoorstepSetting, ItemDiscrepancy, Pickup, PickupEvent, PickupItem  # noqa: F401
from app.receiving.models import DispositionRule, ItemDisposition, RecoveryRate  # noqa: F401
from app.reports.models import ReportFact, ReportRollup  # noqa: F401
from app.sync.models import SyncClient, SyncMutation, SyncState, SyncTombstone  # noqa: F401
from app.webhooks.models import WebhookEndpoint  # noqa: F401
