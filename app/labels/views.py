"""Label files over HTTP: one answer shape for every rendering, and the dispatcher's A4 sheet.

``label_response`` is shared by the customer's link (``/r/<token>/label.*``) and
the staff API (``/api/v1/pickups/<id>/label.*``).

Caching: a rendering is immutable for its content, so it carries a strong ETag
and a repeat request costs a 304 without a body. It is ``private`` because its
URL is a capability (a customer's secret link, or a logged-in request): no
shared cache or CDN may keep it. It is ``no-cache`` (store, but ask every time)
rather than ``max-age`` so that a revoked link or an edited reference takes
effect at once, while the browser and the driver app can still keep the bytes
and revalidate cheaply. The customer's HTML pages, which hold personal data,
are ``no-store`` instead (see app.portal).
"""
from __future__ import annotations

from flask import Blueprint, Response, request

from app.accounts.models import DISPATCH_ROLES
from app.core.auth import roles_required
from app.labels.rendering import FORMATS, Format, LabelContent, label_etag, render_label, render_sheet
from app.labels.services import label_content, parse_pickup_ids, pickups_for_labels

LABEL_FORMATS = tuple(FORMATS)
FORMAT_CONVERTER = "any(" + ", ".join(LABEL_FORMATS) + ")"

bp = Blueprint("labels", __name__, url_prefix="/dispatch")


def label_response(content: LabelContent, fmt: Format, *, download: bool = False) -> Response:
    """The rendering as an HTTP answer, or a 304 when the client already has these bytes."""
    etag = label_etag(content, fmt)
    if request.if_none_match.contains_weak(etag):
        response = Response(status=304)
    else:
        response = Response(render_label(content, fmt), content_type=FORMATS[fmt])
        disposition = "attachment" if download else "inline"
        response.headers["Content-Disposition"] = f'{disposition}; filename="return-label-{content.display_code}.{fmt}"'
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.route("/labels.pdf", methods=["GET", "POST"])
@roles_required(*DISPATCH_ROLES)
def label_sheet():  # type: ignore[no-untyped-def]
    """A4 pages of labels, eight a page: ``?ids=1,2,3`` or a form posting ``ids`` (checkboxes)."""
    pickups = pickups_for_labels(parse_pickup_ids(request.values.getlist("ids")))
    pdf = render_sheet([label_content(pickup) for pickup in pickups])
    response = Response(pdf, content_type="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="return-labels-{len(pickups)}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
