"""Photo upload for the driver app (PUT/HEAD) and serving to dispatchers (GET)."""
from __future__ import annotations

import hashlib
import io
from typing import Any
from uuid import UUID

from flask import Response, current_app, jsonify, request, send_file
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import ClientDisconnected

from app.accounts.models import DISPATCH_ROLES, Role
from app.core.auth import roles_required
from app.core.errors import Conflict, NotFound
from app.core.observability import PHOTO_BYTES
from app.extensions import db
from app.photos import services
from app.photos.models import Photo
from app.photos.storage import PhotoNotFound
from app.pickups.models import Pickup

blp = Blueprint("photos_api", __name__, url_prefix="/api/v1/photos", description="Photos taken by drivers")
pickup_photos_blp = Blueprint("pickup_photos_api", __name__, url_prefix="/api/v1/pickups", description="A pickup's photos")

STAFF_AND_DRIVERS = (Role.DRIVER, Role.HUB, *DISPATCH_ROLES)


class PhotoOutSchema(Schema):
    id = fields.String()
    sha256 = fields.String(metadata={"description": "SHA-256 of the bytes as uploaded"})
    width = fields.Integer()
    height = fields.Integer()
    bytes = fields.Integer(attribute="stored_bytes")
    created_at = fields.AwareDateTime(format="iso")
    captured_at = fields.AwareDateTime(format="iso", allow_none=True, metadata={"description": "X-Captured-At as stored"})


photo_out_schema = PhotoOutSchema()
_SHA_HEADER = {"description": "the SHA-256 of the stored photo", "schema": {"type": "string"}}


def _read_body() -> bytes:
    limit = current_app.config["PHOTO_MAX_BYTES"]
    if request.content_length is not None and request.content_length > limit:
        raise services.PhotoRefused(413, "too_large", f"The photo is larger than {limit // (1024 * 1024)} MB.")
    try:
        data = request.get_data(cache=False)
    except (ClientDisconnected, OSError):
        raise services.PhotoRefused(400, "upload_incomplete", "The upload was cut off. Send the photo again.") from None
    if len(data) > limit:
        raise services.PhotoRefused(413, "too_large", f"The photo is larger than {limit // (1024 * 1024)} MB.")
    if not data:
        raise services.PhotoRefused(400, "empty_upload", "The upload was empty.")
    return data


def _answer(photo: Photo, status: int) -> Response:
    response = jsonify(photo_out_schema.dump(photo))
    response.status_code = status
    response.headers["X-Content-SHA256"] = photo.sha256
    return response


@blp.route("/<uuid:photo_id>", methods=["PUT"])
@roles_required(Role.DRIVER)
@blp.doc(
    summary="Upload a photo under the phone's id",
    description="Body: the image (JPEG, PNG or WebP). Header X-Content-SHA256: the body's SHA-256. "
    "201 stored, 200 already stored with this hash, 409 this id holds another photo, 413 too large, "
    "415 not an accepted image type, 422 not a valid image or unreadable capture headers, 400 incomplete upload. "
    "X-Captured-At and X-Location (optional) say when and where the photo was taken; a retry keeps the first upload's.",
    requestBody={
        "required": True,
        "content": {kind: {"schema": {"type": "string", "format": "binary"}} for kind in ("image/jpeg", "image/png", "image/webp")},
    },
    parameters=[
        {
            "in": "header",
            "name": "X-Content-SHA256",
            "required": True,
            "description": "the SHA-256 of the body, in hex: a cut upload is refused, not stored",
            "schema": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"},
        },
        {
            "in": "header",
            "name": "X-Captured-At",
            "required": False,
            "description": "when the photo was taken, by the phone's clock (ISO 8601 with offset); 422 invalid_capture if unreadable",
            "schema": {"type": "string", "format": "date-time"},
        },
        {
            "in": "header",
            "name": "X-Location",
            "required": False,
            "description": "where it was taken, when the driver allowed location: a geo URI (RFC 5870), e.g. geo:52.3752,4.884;u=12",
            "schema": {"type": "string", "pattern": "^geo:"},
        },
    ],
)
@blp.response(201, PhotoOutSchema, description="stored", headers={"X-Content-SHA256": _SHA_HEADER})
@blp.alt_response(200, schema=PhotoOutSchema, description="already stored with this hash", headers={"X-Content-SHA256": _SHA_HEADER})
def upload(photo_id: UUID):  # type: ignore[no-untyped-def]
    data = _read_body()
    PHOTO_BYTES.labels("received").inc(len(data))
    sha256 = services.check_upload(data, request.headers.get("X-Content-SHA256"))
    capture = services.parse_capture(request.headers.get("X-Captured-At"), request.headers.get("X-Location"))
    stored = services.store_photo(photo_id, data, sha256=sha256, uploader=current_user, capture=capture)
    if not stored.created:
        return _answer(stored.photo, 200)
    try:
        # Answered before the commit, which expires the row: dumping it after would read it back
        # (one more query, and a second transaction to end).
        db.session.flush()
        response = _answer(stored.photo, 201)
        db.session.commit()
    except IntegrityError:
        # The same id arrived twice at once: the other request won. Same bytes → same answer.
        db.session.rollback()
        winner = services.find_photo(photo_id)
        if winner is None or winner.stored_name != stored.photo.stored_name:
            services.discard_photo_files(stored.photo)
        if winner is not None and winner.sha256 == sha256 and winner.uploader_id == current_user.id:
            return _answer(winner, 200)
        raise Conflict("Another photo was already stored under this id.", code="photo_id_conflict") from None
    except BaseException:
        db.session.rollback()
        services.discard_photo_files(stored.photo)
        raise
    return response


def _visible_photo(photo_id: UUID) -> Photo:
    photo = services.find_photo(photo_id)
    if photo is None or not services.can_see_photo(photo, current_user):
        raise NotFound("There is no such photo.")
    return photo


def _serve(photo: Photo, name: str) -> Any:
    # Read whole (a few hundred KB at most): no open file handle outlives the request.
    # Streamed through the app rather than a presigned URL: the access check above stays the
    # only door, the object store need not be reachable from staff browsers, and a photo is
    # a few hundred KB that the browser then keeps (immutable) instead of asking again.
    try:
        data = services.read_photo_file(name)
    except PhotoNotFound:
        raise NotFound("This photo's file is gone (removed by the retention purge).") from None
    PHOTO_BYTES.labels("served").inc(len(data))
    response = send_file(
        io.BytesIO(data), mimetype="image/jpeg", conditional=True, etag=hashlib.sha256(data).hexdigest(), last_modified=photo.created_at
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = f'inline; filename="{photo.id}.jpg"'
    # A photo never changes under its id; only its driver and staff may see it, so only their browser keeps it.
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    return response


@blp.route("/<uuid:photo_id>", methods=["GET", "HEAD"])
@roles_required(*STAFF_AND_DRIVERS)
@blp.doc(summary="HEAD: does the server have this photo (200/404)? GET: the photo (its driver, or staff of the pickup's hub)")
def photo(photo_id: UUID):  # type: ignore[no-untyped-def]
    found = _visible_photo(photo_id)
    if request.method == "HEAD":
        response = Response(status=200)
        response.headers["X-Content-SHA256"] = found.sha256
        return response
    return _serve(found, found.stored_name)


@blp.route("/<uuid:photo_id>/thumb", methods=["GET"])
@roles_required(*STAFF_AND_DRIVERS)
def thumbnail(photo_id: UUID):  # type: ignore[no-untyped-def]
    """The photo's thumbnail (its driver, or staff of the pickup's hub)."""
    found = _visible_photo(photo_id)
    return _serve(found, found.thumb_name)


class LocationSchema(Schema):
    lat = fields.Float()
    lon = fields.Float()
    accuracy_m = fields.Float(allow_none=True)


class PickupPhotoSchema(Schema):
    id = fields.String(attribute="photo_id")
    item_id = fields.Integer(allow_none=True)
    kind = fields.String(metadata={"description": "condition | signature | failure"})
    uploaded = fields.Boolean(metadata={"description": "false while the phone has not uploaded it yet (url, sha256 null)"})
    url = fields.String(allow_none=True)
    thumbnail_url = fields.String(allow_none=True)
    sha256 = fields.String(allow_none=True)
    captured_at = fields.AwareDateTime(
        format="iso", allow_none=True,
        metadata={"description": "the phone's clock when the photo was taken (X-Captured-At), else when its action was recorded"},
    )
    location = fields.Nested(LocationSchema, allow_none=True)


class PickupPhotosSchema(Schema):
    items = fields.List(fields.Nested(PickupPhotoSchema))


def photo_json(photo: services.PickupPhoto) -> dict[str, Any]:
    uploaded = photo.photo is not None
    return {
        "photo_id": photo.photo_id, "item_id": photo.item_id, "kind": photo.kind, "uploaded": uploaded,
        "url": photo.url if uploaded else None, "thumbnail_url": photo.thumb_url if uploaded else None,
        "sha256": photo.photo.sha256 if photo.photo else None, "captured_at": photo.captured_at,
        "location": {"lat": photo.lat, "lon": photo.lon, "accuracy_m": photo.accuracy_m} if photo.lat is not None and photo.lon is not None else None,
    }


@pickup_photos_blp.route("/<int:pickup_id>/photos", methods=["GET"])
@roles_required(*STAFF_AND_DRIVERS)
@pickup_photos_blp.response(200, PickupPhotosSchema)
def pickup_photos(pickup_id: int):  # type: ignore[no-untyped-def]
    """Every photo of a pickup (condition per item, signature, failure), as staff of its hub see them; its driver sees only their own."""
    pickup = db.session.get(Pickup, pickup_id)
    if pickup is None or not services.can_see_pickup_photos(pickup, current_user):
        raise NotFound("There is no such pickup on your list.")
    return {"items": [photo_json(p) for p in services.photos_of_pickup(pickup, viewer=current_user)]}
