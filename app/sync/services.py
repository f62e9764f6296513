"""The sync protocol: exactly-once push, delta pull, and the bookkeeping behind them.

See docs/sync-protocol.md for the protocol as a phone sees it. The HTTP edge
(app.sync.api) opens the write transaction, calls these and commits once.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from flask import current_app
from sqlalchemy import CursorResult, Select, delete, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import joinedload, lazyload, selectinload

from app.accounts.models import User
from app.core.errors import Forbidden, InvalidInput
from app.core.inputs import storable
from app.extensions import db
from app.photos.models import PhotoLink
from app.pickups.changes import last_change_number, newest_change_number, numbered_together
from app.pickups.locks import remember_locked
from app.pickups.models import Pickup
from app.pickups.timeline import write_timeline
from app.sync.models import MutationStatus, SyncClient, SyncMutation, SyncTombstone
from app.sync.mutations import Batch, Mutation, Rejected, apply_mutation, keep_rejected_facts, read_mutation, skew_seconds
from app.sync.schemas import driver_pickup_schema
from app.sync.scope import Scope, age_out_finished_pickups, carry_days, current_scope, in_scope, scope_exit_reason, scope_parts, sync_state
from app.sync.settings import driver_settings

# How often a pull records the phone's last contact (sync health page).
PULL_CONTACT_EVERY = timedelta(seconds=30)
# Characters of a rejected mutation's arguments (and error fields) kept for the sync health page.
REJECTED_ARGS_KEPT = 4000


class ClientOfAnotherDriver(Forbidden):
    code = "client_of_another_driver"


def _dialect() -> str:
    return db.session.get_bind().dialect.name


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
    held: Mapping[str, Any] | None = None,
) -> PushOutcome:
    """Apply a phone's queued mutations exactly once, in id order; answer one result per mutation.

    Call in a write transaction (``core.transactions.begin_write_transaction``). Ids at or below the client's last are
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
    skew = skew_seconds(sent_at, received_at) if sent_at else None
    ordered = sorted(raw_mutations, key=lambda m: m["id"])
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

    results = dict(_duplicate_results(client, duplicates))
    if todo:
        results.update(_apply(driver, client, todo, received_at=received_at, skew=skew))
        client.last_mutation_id = todo[-1].id
    # What the phone says of itself is kept last: set before the batch, the batch's first query
    # would flush it, and the client row would be written twice in every push.
    client.last_push_at = received_at
    if skew is not None:  # the last measured offset stands until the phone sends a new one
        client.clock_skew_seconds = skew
    client.app_version = app_version or client.app_version
    client.user_agent = (user_agent or "")[:300] or client.user_agent
    record_held(client, held, now=received_at)
    if ordered:
        client.highest_seen_mutation_id = max(client.highest_seen_mutation_id, ordered[-1]["id"])
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
    query = (
        select(Pickup)
        .where(Pickup.id.in_(ids))
        .order_by(Pickup.id)
        # Items are what mutations change; nothing else a pickup relates to is loaded up front
        # (customer links, loaded eagerly elsewhere, were 40% of this query's cost and never used here).
        # Joined, not a second query: one round trip less on every push; only the pickups are locked.
        .options(joinedload(Pickup.items), lazyload("*"))
        .with_for_update(of=Pickup)
        .execution_options(populate_existing=True)
    )
    pickups = {pickup.id: pickup for pickup in db.session.scalars(query).unique()}
    remember_locked(db.session(), pickups)  # the report's recount before the commit need not lock them again
    return pickups


def _apply(driver: User, client: SyncClient, todo: list[Mutation], *, received_at: datetime, skew: int | None) -> dict[int, dict[str, Any]]:
    pickups = _load_pickups(m.pickup_id for m in todo if m.pickup_id is not None)
    batch = Batch(
        driver=driver,
        client=client,
        received_at=received_at,
        skew_seconds=skew,
        skew_flag_seconds=current_app.config["SYNC_CLOCK_SKEW_FLAG_SECONDS"],
        pickups=pickups,
    )
    results: dict[int, dict[str, Any]] = {}
    records: list[dict[str, Any]] = []
    # Reads inside the batch must not write half of it; the changes are numbered together at the end.
    with db.session.no_autoflush, numbered_together():
        for mutation in todo:
            try:
                outcome = apply_mutation(batch, mutation)
            except Rejected as rejection:
                keep_rejected_facts(batch, mutation, rejection)
                # The fields may name every unknown key sent: a few KB of them are enough to show.
                fields = storable(rejection.fields, max_chars=REJECTED_ARGS_KEPT)
                result = _result(mutation.id, "rejected", rejection.code, rejection.message, fields=fields)
                status = MutationStatus.REJECTED
                pickup_id = mutation.pickup_id if mutation.pickup_id in pickups else None
            else:
                pickup = outcome.entry.pickup
                result = _result(mutation.id, "applied", None, outcome.message, pickup_id=pickup.id, version=pickup.version)
                status = MutationStatus.APPLIED
                pickup_id = pickup.id
            results[mutation.id] = result
            records.append(_record(client, mutation, status, result, pickup_id, batch))
    write_timeline()
    _write(batch, records)
    return results


def _record(client: SyncClient, mutation: Mutation, status: MutationStatus, result: dict[str, Any], pickup_id: int | None, batch: Batch) -> dict[str, Any]:
    location = mutation.location or {}
    raw_args = mutation.raw.get("args")
    args = raw_args if isinstance(raw_args, dict) else {"_raw": mutation.raw}
    if status is MutationStatus.REJECTED:
        # What was refused is kept for a person to read, not whole: a few KB, scrubbed of what
        # PostgreSQL cannot store (an applied mutation passed its schema, so it is both already).
        args = storable(args, max_chars=REJECTED_ARGS_KEPT)
    return {
        "sync_client_id": client.id,
        "mutation_id": mutation.id,
        "name": mutation.name or "?",
        "args": args,
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
    """Bulk-insert what the batch produced besides the pickups' own changes: photo links and mutation records."""
    # render_nulls: one executemany per table, not one per pattern of empty columns.
    bulk = {"render_nulls": True}
    if batch.links:
        db.session.execute(insert(PhotoLink).execution_options(**bulk), [{**link, "event_id": entry.id} for entry, link in batch.links])
    if records:
        db.session.execute(insert(SyncMutation).execution_options(**bulk), records)


# ---- pull ---------------------------------------------------------------------------------


def record_held(client: SyncClient, held: Mapping[str, Any] | None, *, now: datetime) -> bool:
    """Keep what the phone says it still holds (actions, photos, age of the oldest); True when it changed.

    The age is turned into a server time here, so a phone's wrong clock does not move it.
    """
    if held is None:
        return False
    age = held.get("oldest_age_seconds")
    oldest = now - timedelta(seconds=age) if age is not None and (held["actions"] or held["photos"]) else None
    same = (client.held_actions, client.held_photos) == (held["actions"], held["photos"]) and (
        (oldest is None and client.held_oldest_at is None)
        or (oldest is not None and client.held_oldest_at is not None and abs((oldest - client.held_oldest_at).total_seconds()) < 60)
    )
    if same and client.held_reported_at is not None and now - client.held_reported_at <= PULL_CONTACT_EVERY:
        return False  # nothing new: no write (a phone pulls after every action)
    client.held_reported_at = now
    client.held_actions, client.held_photos, client.held_oldest_at = held["actions"], held["photos"], oldest
    return True


def pull_changes(
    driver: User, *, cursor: int | None, client_id: str | None, now: datetime, held: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The driver's pickups changed after ``cursor`` (puts and deletes), or everything when resetting."""
    client = get_client(client_id, driver, lock=False, now=now) if client_id else None
    if client is not None and record_held(client, held, now=now):
        db.session.flush()
    if client is not None and (client.last_pull_at is None or now - client.last_pull_at > PULL_CONTACT_EVERY):
        # Written first, so SQLite takes the write lock before reading (no stale-snapshot upgrade);
        # at most twice a minute, so a phone pulling after every action does not write every time.
        client.last_pull_at = now
        db.session.flush()
    config = current_app.config
    age_out_finished_pickups(now, timedelta(hours=config["SYNC_FINISHED_VISIBLE_HOURS"]))
    carry_days(driver, now, config["SYNC_DAYS_AHEAD"])
    head = last_change_number()
    purged_through = sync_state().tombstones_purged_through
    reset = cursor is None or cursor == 0 or cursor <= purged_through or cursor > newest_change_number()
    if cursor is not None and not reset and cursor > head:
        # A writer that announced late (app.pickups.changes) holds the watermark just below
        # a cursor this phone already has: nothing new is visible yet; the cursor stays.
        head = cursor
    # The scope is read after the watermark: a sweep that moved it (another pull's) had committed
    # its stamps by then, so they are at or below ``head`` and judged by the scope they made;
    # a sweep still running has numbers above ``head``, which the next pull judges.
    scope = current_scope(driver.id)
    if reset:
        changes = _full_state(scope)
    else:
        assert cursor is not None
        changes = _delta(scope, cursor, head)
    if client is not None and client.last_cursor != head and client.last_pull_at == now:
        client.last_cursor = head
    return {
        "cursor": head,
        "last_mutation_id": client.last_mutation_id if client is not None else 0,
        "reset": reset,
        "changes": changes,
        "settings": driver_settings(driver),
    }


def _put(pickup: Pickup) -> dict[str, Any]:
    return {"entity": "pickup", "id": pickup.id, "op": "put", "version": pickup.version, "data": driver_pickup_schema.dump(pickup)}


def _delete(pickup_id: int, reason: str, message: str | None = None) -> dict[str, Any]:
    return {"entity": "pickup", "id": pickup_id, "op": "delete", "version": None, "data": {"reason": reason, "message": message}}


def reset_queries(scope: Scope) -> list[Select[Pickup]]:
    """A reset pull's queries: the driver's route, filtered in SQL, so its cost follows the route and not the history.

    One index range each (scope parts, app.sync.scope); separate queries rather
    than an OR, which SQLite would answer by reading the whole history.
    """
    return [select(Pickup).where(part).options(selectinload(Pickup.items)) for part in scope_parts(scope)]


def _route_order(pickup: Pickup) -> tuple[Any, ...]:
    return (pickup.route_position is None, pickup.route_position or 0, pickup.window_start, pickup.id)


def _full_state(scope: Scope) -> list[dict[str, Any]]:
    pickups = [pickup for query in reset_queries(scope) for pickup in db.session.scalars(query)]
    return [_put(pickup) for pickup in sorted(pickups, key=_route_order)]


def delta_queries(driver_id: int, cursor: int, head: int) -> tuple[Select[Pickup], Select[int, int, str]]:
    """The two index range scans of a delta pull: pickups of the driver changed in (cursor, head], and tombstones."""
    changed = (
        select(Pickup)
        .where(Pickup.driver_id == driver_id, Pickup.change_seq > cursor, Pickup.change_seq <= head)
        .options(selectinload(Pickup.items))
    )
    left = select(SyncTombstone.pickup_id, SyncTombstone.change_seq, SyncTombstone.reason).where(
        SyncTombstone.driver_id == driver_id, SyncTombstone.change_seq > cursor, SyncTombstone.change_seq <= head
    )
    return changed, left


def _delta(scope: Scope, cursor: int, head: int) -> list[dict[str, Any]]:
    changed_query, left_query = delta_queries(scope.driver_id, cursor, head)
    changed = db.session.scalars(changed_query)
    latest: dict[int, tuple[int, dict[str, Any]]] = {}
    for pickup in changed:
        if in_scope(pickup, scope):
            change = _put(pickup)
        else:
            reason = scope_exit_reason(pickup, scope)
            change = _delete(pickup.id, reason, pickup.cancel_reason if reason == "cancelled" else None)
        latest[pickup.id] = (pickup.change_seq or 0, change)
    left = db.session.execute(left_query)
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
        purged = cast(CursorResult[Any], db.session.execute(delete(SyncTombstone).where(SyncTombstone.change_seq <= newest_purged)))
        tombstones = purged.rowcount or 0
        state = sync_state()
        state.tombstones_purged_through = max(state.tombstones_purged_through, newest_purged)
    return PurgeReport(mutations=len(doomed), tombstones=tombstones)
