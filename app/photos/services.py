"""Photos: store an upload once (idempotent by id and hash), find a pickup's photos."""
from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from flask import current_app, url_for
from sqlalchemy import and_, delete, func, or_, select

from app.accounts.models import Role, User
from app.core.errors import Conflict, DomainError
from app.extensions import db
from app.photos.models import Photo, PhotoLink
from app.photos.processing import PhotoRejected, normalise_photo
from app.photos.storage import photo_file_names, photo_storage
from app.pickups.doorstep import doorstep
from app.pickups.models import Pickup, PickupEvent

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class PhotoRefused(DomainError):
    """An upload we do not keep; the status comes from the reason (400, 413, 415, 422)."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message, code=code)
        self.status = status


@dataclass(frozen=True)
class Capture:
    """When and where the phone says a photo was taken: its own clock, and its fix when the driver allowed location."""

    at: datetime | None = None
    lat: float | None = None
    lon: float | None = None
    accuracy_m: float | None = None


# RFC 5870's geo URI, which says a place and its uncertainty in one header: geo:52.3752,4.884;u=12
_GEO_URI = re.compile(r"^geo:(-?\d{1,3}(?:\.\d{1,12})?),(-?\d{1,3}(?:\.\d{1,12})?)(?:;u=(\d{1,7}(?:\.\d{1,6})?))?$")


def _refused_capture(message: str) -> PhotoRefused:
    # 422, not 400: the phone keeps a refused photo and shows it instead of sending the same header forever.
    return PhotoRefused(422, "invalid_capture", message)


def parse_capture(captured_at: str | None, location: str | None) -> Capture:
    """The ``X-Captured-At`` and ``X-Location`` headers of an upload; both optional, neither guessed."""
    at = None
    if captured_at:
        text = captured_at.strip()
        try:
            at = datetime.fromisoformat(text.replace("Z", "+00:00")) if len(text) <= 40 else None
        except ValueError:
            at = None
        if at is None or at.tzinfo is None or not 2000 <= at.year <= 2200:
            raise _refused_capture("X-Captured-At must be an ISO 8601 time with its offset, e.g. 2026-03-03T09:15:02Z.")
        at = at.astimezone(UTC)
    if not location:
        return Capture(at=at)
    match = _GEO_URI.match(location.strip())
    lat, lon = (float(match.group(1)), float(match.group(2))) if match else (math.nan, math.nan)
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise _refused_capture("X-Location must be a geo URI with latitude, longitude and optional accuracy in metres, e.g. geo:52.3752,4.884;u=12.")
    accuracy = float(match.group(3)) if match and match.group(3) else None
    return Capture(at=at, lat=lat, lon=lon, accuracy_m=accuracy)


@dataclass(frozen=True)
class StoredPhoto:
    photo: Photo
    created: bool


def check_upload(data: bytes, declared_sha256: str | None) -> str:
    """The body's SHA-256, if it is what the phone says it sent (a cut upload is not)."""
    declared = (declared_sha256 or "").strip().lower()
    if not _SHA256.match(declared):
        raise PhotoRefused(400, "checksum_required", "Send the photo's SHA-256 (64 hex digits) in the X-Content-SHA256 header.")
    actual = hashlib.sha256(data).hexdigest()
    if actual != declared:
        raise PhotoRefused(
            400, "checksum_mismatch", "The photo did not arrive whole (its SHA-256 does not match). Send it again."
        )
    return actual


def find_photo(photo_id: UUID) -> Photo | None:
    """The stored photo with this id, whoever uploaded it."""
    return db.session.get(Photo, str(photo_id))


def store_photo(photo_id: UUID, data: bytes, *, sha256: str, uploader: User, capture: Capture | None = None) -> StoredPhoto:
    """Keep this upload under the phone's id: once, normalised, with its thumbnail.

    The same id with the same bytes is the same photo (a retry): nothing is done
    again. The same id with other bytes is a conflict. Files are written before
    the row, so a photo the database knows always has its files. A retry keeps the
    capture facts of the first upload: a photo is taken once.
    """
    existing = find_photo(photo_id)
    if existing is not None:
        if existing.uploader_id == uploader.id and existing.sha256 == sha256:
            return StoredPhoto(existing, created=False)
        raise Conflict("Another photo was already stored under this id. Give this photo a new id.", code="photo_id_conflict")
    config = current_app.config
    try:
        normalised = normalise_photo(
            data,
            max_pixels=config["PHOTO_MAX_PIXELS"],
            # The admins' size (what the phone shrinks to): a larger upload is shrunk to it here.
            long_edge=doorstep().photo_long_edge,
            thumb_edge=config["PHOTO_THUMB_EDGE"],
            quality=config["PHOTO_STORED_JPEG_QUALITY"],
        )
    except PhotoRejected as rejected:
        raise PhotoRefused(rejected.status, rejected.code, rejected.message) from None
    stored_name, thumb_name = photo_file_names(str(photo_id), sha256)
    storage = photo_storage()
    storage.put(stored_name, normalised.jpeg)
    storage.put(thumb_name, normalised.thumbnail)
    photo = Photo(
        id=str(photo_id),
        uploader_id=uploader.id,
        sha256=sha256,
        source_format=normalised.source_format,
        source_bytes=len(data),
        stored_name=stored_name,
        thumb_name=thumb_name,
        stored_bytes=len(normalised.jpeg),
        width=normalised.width,
        height=normalised.height,
    )
    if capture is not None:
        photo.captured_at, photo.lat, photo.lon, photo.accuracy_m = capture.at, capture.lat, capture.lon, capture.accuracy_m
    db.session.add(photo)
    return StoredPhoto(photo, created=True)


def known_photo_files(names: list[str]) -> set[str]:
    """Which of these file names belong to a stored photo (as photo or thumbnail)."""
    rows = db.session.execute(
        select(Photo.stored_name, Photo.thumb_name).where(or_(Photo.stored_name.in_(names), Photo.thumb_name.in_(names)))
    )
    return {name for pair in rows for name in pair}


def discard_photo_files(photo: Photo) -> None:
    """Remove the files of a photo whose row was not committed."""
    photo_storage().delete([photo.stored_name, photo.thumb_name])


def read_photo_file(name: str) -> bytes:
    """The bytes of a stored photo or thumbnail, from whichever store is configured."""
    return photo_storage().get(name)


def sweep_stray_photo_files() -> int:
    """Files or objects of uploads whose row never committed (a killed process); answer how many went."""
    return photo_storage().sweep_strays(known_photo_files)


def staff_of_hub(viewer: User, hub_id: int) -> bool:
    """Office staff see the photos of their own hub's pickups; admins and staff without a home hub see every hub's."""
    if viewer.is_driver:
        return False
    return viewer.role is Role.ADMIN or viewer.hub_id is None or viewer.hub_id == hub_id


def can_see_pickup_photos(pickup: Pickup, viewer: User) -> bool:
    """Staff of the pickup's hub, or the driver it is assigned to (who then sees only their own photos)."""
    return staff_of_hub(viewer, pickup.hub_id) or pickup.is_assigned_to(viewer)


def can_see_photo(photo: Photo, viewer: User) -> bool:
    """The driver who took it, or staff of a hub whose pickup refers to it."""
    if photo.uploader_id == viewer.id:
        return True
    if viewer.is_driver:
        return False
    hub_ids = list(db.session.scalars(
        select(Pickup.hub_id).join(PhotoLink, PhotoLink.pickup_id == Pickup.id).where(PhotoLink.photo_id == photo.id).distinct()
    ))
    if not hub_ids:
        # Uploaded before the action that names it: no hub to scope by yet, so dispatch may check it arrived.
        return viewer.can_dispatch
    return any(staff_of_hub(viewer, hub_id) for hub_id in hub_ids)


@dataclass(frozen=True)
class PickupPhoto:
    """A photo a driver's action refers to; ``photo`` is None while it has not been uploaded."""

    photo_id: str
    role: str
    item_id: int | None
    event_id: int | None
    photo: Photo | None
    # When and where it was taken: the photo's own capture facts when the phone sent them, else those of
    # the action it belongs to (older apps); ``taken_by_photo`` says which.
    captured_at: datetime | None = None
    lat: float | None = None
    lon: float | None = None
    accuracy_m: float | None = None
    taken_by_photo: bool = False

    @property
    def kind(self) -> str:
        """The word the API uses: what the photo proves."""
        return {"signature": "signature", "failure": "failure"}.get(self.role, "condition")

    @property
    def awaiting_upload(self) -> bool:
        return self.photo is None

    @property
    def url(self) -> str:
        return url_for("photos_api.photo", photo_id=self.photo_id)

    @property
    def thumb_url(self) -> str:
        return url_for("photos_api.thumbnail", photo_id=self.photo_id)


def _uploaded_by_the_driver():  # type: ignore[no-untyped-def]
    return and_(Photo.id == PhotoLink.photo_id, Photo.uploader_id == PhotoLink.driver_id)


def photos_for_pickup(pickup: Pickup) -> list[PickupPhoto]:
    """Every photo the pickup's timeline refers to, uploaded or still on its way."""
    return photos_of_pickup(pickup)


def photos_of_pickup(pickup: Pickup, *, viewer: User | None = None) -> list[PickupPhoto]:
    """The pickup's photos with the device time and place they were taken; a driver ``viewer`` gets only their own."""
    query = (
        select(PhotoLink, Photo, PickupEvent)
        .outerjoin(Photo, _uploaded_by_the_driver())
        .outerjoin(PickupEvent, PickupEvent.id == PhotoLink.event_id)
        .where(PhotoLink.pickup_id == pickup.id)
        .order_by(PhotoLink.id)
    )
    if viewer is not None and viewer.is_driver:
        query = query.where(PhotoLink.driver_id == viewer.id)
    return [_with_capture(link, photo, event) for link, photo, event in db.session.execute(query)]


def _with_capture(link: PhotoLink, photo: Photo | None, event: PickupEvent | None) -> PickupPhoto:
    if photo is not None and photo.captured_at is not None:
        # The photo's own place only: an action's fix may be from somewhere else, minutes later.
        return PickupPhoto(link.photo_id, link.role, link.item_id, link.event_id, photo, captured_at=photo.captured_at,
                           lat=photo.lat, lon=photo.lon, accuracy_m=photo.accuracy_m, taken_by_photo=True)
    return PickupPhoto(
        link.photo_id, link.role, link.item_id, link.event_id, photo,
        captured_at=event.device_time if event else None,
        lat=event.lat if event else None, lon=event.lon if event else None, accuracy_m=event.accuracy_m if event else None,
    )


def photos_awaiting_by_driver() -> dict[int, int]:
    """How many referenced photos each driver has not uploaded yet."""
    rows = db.session.execute(
        select(PhotoLink.driver_id, func.count(func.distinct(PhotoLink.photo_id)))
        .outerjoin(Photo, _uploaded_by_the_driver())
        .where(Photo.id.is_(None))
        .group_by(PhotoLink.driver_id)
    )
    return {driver_id: count for driver_id, count in rows}


@dataclass(frozen=True)
class RemovedPhotos:
    photos: int
    names: list[str]  # files or objects to delete once the rows are gone


def photos_of_pickups(pickup_ids: list[int]) -> list[Photo]:
    """The stored photos these pickups refer to, and no photo another pickup still refers to."""
    if not pickup_ids:
        return []
    linked = select(PhotoLink.photo_id).where(PhotoLink.pickup_id.in_(pickup_ids))
    elsewhere = select(PhotoLink.photo_id).where(PhotoLink.photo_id.in_(linked), PhotoLink.pickup_id.not_in(pickup_ids))
    return list(db.session.scalars(select(Photo).where(Photo.id.in_(linked), Photo.id.not_in(elsewhere))))


def forget_photos_of_pickups(pickup_ids: list[int]) -> RemovedPhotos:
    """Delete the photo rows and links of these pickups; the caller deletes ``names`` after the commit.

    Rows first, bytes after the commit: a crash in between leaves files no row
    knows, which the stray sweep (``sync purge``) removes; the other order could
    leave rows pointing at nothing.
    """
    photos = photos_of_pickups(pickup_ids)
    names = [name for photo in photos for name in (photo.stored_name, photo.thumb_name)]
    if photos:
        db.session.execute(delete(Photo).where(Photo.id.in_([photo.id for photo in photos])))
    if pickup_ids:
        db.session.execute(delete(PhotoLink).where(PhotoLink.pickup_id.in_(pickup_ids)))
    return RemovedPhotos(len(photos), names)


def delete_photo_files(names: list[str]) -> None:
    photo_storage().delete(names)
