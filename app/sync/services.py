"""The sync protocol: exactly-once push, delta pull, and the bookkeeping behind them.

See docs/sync-protocol.md for the protocol as a phone sees it. The HTTP edge
(app.sync.api) opens the write transaction, calls these and commits once.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.core.errors import Forbidden, InvalidInput
from app.extensions import db
from app.photos.models import PhotoLink
from app.pickups.models import Pickup, PickupEvent, PickupStatus
from app.sync.models import MutationStatus, SyncClient, SyncMutation, SyncTombstone
from app.sync.mutations import HANDLERS, Batch, Mutation, Rejected, keep_rejected_facts, read_mutation
from app.sync.schemas import driver_pickup_schema
from app.sync.scope import age_out_finished_pickups, in_scope, scope_exit_reason, sync_state
from app.sync.sequence import last_change_number, take_change_numbers
from app.sync.settings import driver_settings, photo_required_grades


class ClientOfAnotherDriver(Forbidden):
    code = "client_of_another_driver"


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def begin_push_transaction() -> None:
    """Start the push's write transaction so pushes of one phone run one after another.

    SQLite: ``BEGIN IMMEDIATE`` takes the write lock now (pysqlite would only
    begin at the first write, after our duplicate check had read stale data).
    PostgreSQL: the client's row lock (``lock_client``) does it; a bounded
    lock wait turns a stuck push into a retry instead of a hung request.
    """
    connection = db.session.connection()
    if _dialect() == "sqlite":
        raw = connection.connection.dbapi_connection
        if raw is not None and raw.in_transaction:  # only reads so far: nothing to lose
            db.session.rollback()
            connection = db.session.connection()
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif _dialect() == "postgresql":
        timeout = int(current_app.config["SYNC_LOCK_TIMEOUT_MS"])
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = {timeout}")


def _insert_ignoring_conflict(model: Any, values: dict[str, Any], key: str) -> None:
    statement = (pg_insert if _dialect() == "postgresql" else sqlite_insert)(model).values(**values)
    db.session.execute(statement.on_conflict_do_nothing(index_elements=[key]))


def get_client(client_id: str, driver: User, *, lock: bool, now: datetime) -> SyncClient:
    """The phone's client row, created and bound to ``driver`` on first sight; locked for a push."""
    query = select(SyncClient).where(SyncClient.client_id == client_id).execution_options(populate_existing=True)
    if lock:
        query = query.with_for_update()
    client = db.session.scalar(query)
    if client is None:
        _insert_ignoring_conflict(
            SyncClient,
            {"client_id": client_id, "driver_id": driver.id, "last_mutation_id": 0, "highest_seen_mutation_id": 0, "created_at": now, "updated_at": now},
            "client_id",
        )
        client = db.session.scalars(query).one()
    if client.driver_id != driver.id:
        raise ClientOfAnotherDriver(
            "This app install belongs to another driver's account. Log out and back in, or reinstall the app.",
            fields={"client_id": ["Bound to another driver."]},
        )
    return client


# ---- push ---------------------------------------------------------------------------------


@dataclass
class PushOutcome:
    last_mutation_id: int
    results: list[dict[str, Any]]
    not_processed: list[int]

    def as_json(self) -> dict[str, Any]:
        return {"last_mutation_id": self.last_mutation_id, "results": self.results, "not_processed": self.not_processed}


def push_mutations(
    driver: User,
    client_id: str,
    raw_mutations: Sequence[dict[str, Any]],
    *,
    received_at: datetime,
    sent_at: datetime | None = None,
    schema_version: int = 1,
    app_version: str | None = None,
    user_agent: str | None = None,
) -> PushOutcome:
    """Apply a phone's queued mutations exactly once, in id order; answer one result per mutation.

    Call inside ``begin_push_transaction``. Ids at or below the client's last are
    duplicates (the stored acknowledgement again); a missing id stops the batch;
    a mutation that can never succeed is rejected and still advances the last id.
    """
    config = current_app.config
    if schema_version != config["SYNC_SCHEMA_VERSION"]:
        raise InvalidInput(
            f"This server speaks sync schema version {config['SYNC_SCHEMA_VERSION']}; update the app.",
            fields={"schema_version": ["Unsupported."]},
            code="unsupported_schema_version",
        )
    if len(raw_mutations) > config["SYNC_MAX_BATCH"]:
        raise InvalidInput(
            f"Send at most {config['SYNC_MAX_BATCH']} mutations per push.", fields={"mutations": ["Too many."]}, code="batch_too_large"
        )
    client = get_client(client_id, driver, lock=True, now=received_at)
    skew = round((sent_at - received_at).total_seconds()) if sent_at else None
    client.last_push_at = received_at
    client.clock_skew_seconds = skew
    client.app_version = app_version or client.app_version
    client.user_agent = (user_agent or "")[:300] or client.user_agent

    ordered = sorted(raw_mutations, key=lambda m: m["id"])
    if ordered:
        client.highest_seen_mutation_id = max(client.highest_seen_mutation_id, ordered[-1]["id"])
    duplicates = [m["id"] for m in ordered if m["id"] <= client.last_mutation_id]
    todo: list[Mutation] = []
    not_processed: list[int] = []
    expected = client.last_mutation_id + 1
    for raw in ordered:
        if raw["id"] < expected:
            continue
        if raw["id"] == expected and not not_processed:
            todo.append(read_mutation(raw))
            expected += 1
        else:
            # A gap: an earlier mutation has not arrived. Nothing after it may be applied first.
            not_processed.append(raw["id"])

    results = {mutation_id: result for mutation_id, result in _duplicate_results(client, duplicates).items()}
    if todo:
        results.update(_apply(driver, client, todo, received_at=received_at, skew=skew))
        client.last_mutation_id = todo[-1].id
    return PushOutcome(
        last_mutation_id=client.last_mutation_id,
        results=[results[m["id"]] for m in ordered if m["id"] in results],
        not_processed=not_processed,
    )


def _duplicate_results(client: SyncClient, mutation_ids: list[int]) -> dict[int, dict[str, Any]]:
    if not mutation_ids:
        return {}
    stored = {
        row.mutation_id: row
        for row in db.session.scalars(
            select(SyncMutation).where(SyncMutation.sync_client_id == client.id, SyncMutation.mutation_id.in_(mutation_ids))
        )
    }
    answers = {}
    for mutation_id in mutation_ids:
        row = stored.get(mutation_id)
        if row is None:  # older than the retention: we know it was processed, not how
            answers[mutation_id] = _result(mutation_id, "duplicate", None, "Already processed.", original_status=None)
        else:
            answers[mutation_id] = _result(
                mutation_id,
                "duplicate",
                row.code,
                row.message,
                original_status=row.status.value,
                pickup_id=row.result.get("pickup_id"),
                version=row.result.get("version"),
                fields=row.result.get("fields"),
            )
    return answers


def _result(
    mutation_id: int,
    status: str,
    code: str | None,
    message: str,
    *,
    original_status: str | None = None,
    pickup_id: int | None = None,
    version: int | None = None,
    fields: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "id": mutation_id,
        "status": status,
        "code": code,
        "message": message,
        "original_status": original_status,
        "pickup_id": pickup_id,
        "version": version,
        "fields": fields or {},
    }


def _load_pickups(pickup_ids: Iterable[int]) -> dict[int, Pickup]:
    ids = sorted(set(pickup_ids))
    if not ids:
        return {}
    # Locked in id order, so two pushes touching the same pickups cannot deadlock each other.
    query = select(Pickup).where(Pickup.id.in_(ids)).order_by(Pickup.id).options(selectinload(Pickup.items)).with_for_update(of=Pickup)
    return {pickup.id: pickup for pickup in db.session.scalars(query)}


def _scanned(pickups: dict[int, Pickup]) -> set[int]:
    must_scan = [pickup.id for pickup in pickups.values() if pickup.scan_required]
    if not must_scan:
        return set()
    return set(
        db.session.scalars(select(PickupEvent.pickup_id).where(PickupEvent.pickup_id.in_(must_scan), PickupEvent.kind == "label_scanned").distinct())
    )


def _apply(driver: User, client: SyncClient, todo: list[Mutation], *, received_at: datetime, skew: int | None) -> dict[int, dict[str, Any]]:
    pickups = _load_pickups(m.pickup_id for m in todo if m.pickup_id is not None)
    batch = Batch(
        driver=driver,
        client=client,
        received_at=received_at,
        skew_seconds=skew,
        skew_flag_seconds=current_app.config["SYNC_CLOCK_SKEW_FLAG_SECONDS"],
        required_photo_grades=photo_required_grades(),
        pickups=pickups,
        scanned=_scanned(pickups),
    )
    results: dict[int, dict[str, Any]] = {}
    records: list[dict[str, Any]] = []
    with db.session.no_autoflush:
        for mutation in todo:
            try:
                if mutation.error is not None:
                    raise mutation.error
                outcome = HANDLERS[mutation.name](batch, mutation)
            except Rejected as rejection:
                keep_rejected_facts(batch, mutation, rejection)
                result = _result(mutation.id, "rejected", rejection.code, rejection.message, fields=rejection.fields)
                status = MutationStatus.REJECTED
                pickup_id = mutation.pickup_id if mutation.pickup_id in pickups else None
            else:
                pickup = outcome.pickup
                result = _result(mutation.id, "applied", None, outcome.message, pickup_id=pickup.id, version=pickup.version)
                status = MutationStatus.APPLIED
                pickup_id = pickup.id
            results[mutation.id] = result
            records.append(_record(client, mutation, status, result, pickup_id, batch))
        if batch.touched:
            for pickup, number in zip(batch.touched.values(), take_change_numbers(len(batch.touched))):
                pickup.change_seq = number
    db.session.flush()
    _write(batch, records)
    return results


def _record(client: SyncClient, mutation: Mutation, status: MutationStatus, result: dict[str, Any], pickup_id: int | None, batch: Batch) -> dict[str, Any]:
    location = mutation.location or {}
    raw_args = mutation.raw.get("args")
    return {
        "sync_client_id": client.id,
        "mutation_id": mutation.id,
        "name": mutation.name or "?",
        "args": raw_args if isinstance(raw_args, dict) else {"_raw": mutation.raw},
        "base_version": mutation.base_version,
        "status": status,
        "code": result["code"],
        "message": result["message"],
        "result": {k: result[k] for k in ("pickup_id", "version", "fields") if result[k]},
        "pickup_id": pickup_id,
        "device_time": mutation.device_time,
        "received_at": batch.received_at,
        "clock_skew_seconds": batch.skew_for(mutation),
        "lat": location.get("lat"),
        "lon": location.get("lon"),
        "accuracy_m": location.get("accuracy_m"),
    }


def _write(batch: Batch, records: list[dict[str, Any]]) -> None:
    """Bulk-insert what the batch produced: events (their ids for photo links), links, mutation records."""
    if batch.events:
        event_ids = db.session.scalars(
            insert(PickupEvent).returning(PickupEvent.id, sort_by_parameter_order=True), batch.events
        ).all()
        if batch.links:
            db.session.execute(insert(PhotoLink), [{**link, "event_id": event_ids[index]} for index, link in batch.links])
    if records:
        db.session.execute(insert(SyncMutation), records)


# ---- pull ---------------------------------------------------------------------------------


def pull_changes(driver: User, *, cursor: int | None, client_id: str | None, now: datetime) -> dict[str, Any]:
    """The driver's pickups changed after ``cursor`` (puts and deletes), or everything when resetting."""
    client = get_client(client_id, driver, lock=False, now=now) if client_id else None
    if client is not None:
        # Written first, so SQLite takes the write lock before reading (no stale-snapshot upgrade).
        client.last_pull_at = now
        db.session.flush()
    hidden_before = age_out_finished_pickups(now, timedelta(hours=current_app.config["SYNC_FINISHED_VISIBLE_HOURS"]))
    head = last_change_number()
    purged_through = sync_state().tombstones_purged_through
    reset = cursor is None or cursor == 0 or cursor > head or cursor <= purged_through
    if reset:
        changes = _full_state(driver, hidden_before)
    else:
        assert cursor is not None
        changes = _delta(driver, cursor, head, hidden_before)
    if client is not None:
        client.last_cursor = head
    return {
        "cursor": head,
        "last_mutation_id": client.last_mutation_id if client is not None else 0,
        "reset": reset,
        "changes": changes,
        "settings": driver_settings(),
    }


def _put(pickup: Pickup) -> dict[str, Any]:
    return {"entity": "pickup", "id": pickup.id, "op": "put", "version": pickup.version, "data": driver_pickup_schema.dump(pickup)}


def _delete(pickup_id: int, reason: str, message: str | None = None) -> dict[str, Any]:
    return {"entity": "pickup", "id": pickup_id, "op": "delete", "version": None, "data": {"reason": reason, "message": message}}


def _full_state(driver: User, hidden_before: datetime | None) -> list[dict[str, Any]]:
    query = (
        select(Pickup)
        .where(Pickup.driver_id == driver.id, Pickup.status != PickupStatus.CANCELLED)
        .options(selectinload(Pickup.items))
        .order_by(Pickup.route_position, Pickup.window_start, Pickup.id)
    )
    return [_put(pickup) for pickup in db.session.scalars(query) if in_scope(pickup, driver.id, hidden_before)]


def _delta(driver: User, cursor: int, head: int, hidden_before: datetime | None) -> list[dict[str, Any]]:
    changed = db.session.scalars(
        select(Pickup)
        .where(Pickup.driver_id == driver.id, Pickup.change_seq > cursor, Pickup.change_seq <= head)
        .options(selectinload(Pickup.items))
    )
    latest: dict[int, tuple[int, dict[str, Any]]] = {}
    for pickup in changed:
        if in_scope(pickup, driver.id, hidden_before):
            change = _put(pickup)
        else:
            change = _delete(pickup.id, scope_exit_reason(pickup, driver.id), pickup.cancel_reason)
        latest[pickup.id] = (pickup.change_seq or 0, change)
    left = db.session.execute(
        select(SyncTombstone.pickup_id, SyncTombstone.change_seq, SyncTombstone.reason).where(
            SyncTombstone.driver_id == driver.id, SyncTombstone.change_seq > cursor, SyncTombstone.change_seq <= head
        )
    )
    for pickup_id, number, reason in left:
        if pickup_id not in latest or latest[pickup_id][0] < number:
            latest[pickup_id] = (number, _delete(pickup_id, reason))
    return [change for _, change in sorted(latest.values(), key=lambda pair: pair[0])]


# ---- housekeeping -------------------------------------------------------------------------


@dataclass
class PurgeReport:
    mutations: int
    tombstones: int


def purge_sync_records(now: datetime, *, days: int) -> PurgeReport:
    """Forget mutation records and tombstones older than ``days`` (never under the configured minimum).

    Each client's last mutation record is kept, so its duplicate answer stays
    exact; cursors older than the newest purged tombstone get a full reset.
    """
    minimum = current_app.config["SYNC_RETENTION_DAYS"]
    if days < minimum:
        raise InvalidInput(f"Keep sync records at least {minimum} days: phones may be offline that long.", fields={"days": ["Too short."]})
    cutoff = now - timedelta(days=days)
    last_ids = select(SyncClient.id, SyncClient.last_mutation_id)
    keep = {(client_pk, last) for client_pk, last in db.session.execute(last_ids)}
    old = db.session.execute(
        select(SyncMutation.id, SyncMutation.sync_client_id, SyncMutation.mutation_id).where(SyncMutation.received_at < cutoff)
    ).all()
    doomed = [row_id for row_id, client_pk, mutation_id in old if (client_pk, mutation_id) not in keep]
    for start in range(0, len(doomed), 500):
        db.session.execute(delete(SyncMutation).where(SyncMutation.id.in_(doomed[start : start + 500])))
    newest_purged = db.session.scalar(select(func.max(SyncTombstone.change_seq)).where(SyncTombstone.created_at < cutoff))
    tombstones = 0
    if newest_purged is not None:
        tombstones = db.session.execute(delete(SyncTombstone).where(SyncTombstone.change_seq <= newest_purged)).rowcount or 0
        state = sync_state()
        state.tombstones_purged_through = max(state.tombstones_purged_through, newest_purged)
    return PurgeReport(mutations=len(doomed), tombstones=tombstones)
