"""Staff history: GET /admin/audit, GET /admin/layers/{id}/history, POST /admin/layers/{id}/rollback."""

from __future__ import annotations

import asyncio
import re
from datetime import date, datetime, time
from typing import Annotated
from zoneinfo import ZoneInfo

import psycopg
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field

from api.deps import Rt, Staff, StaffConn, request_id, require_role
from gis.edits.audit import MAX_LIMIT, AuditFilter, aaudit, ahistory
from gis.edits.rollback import rollback, rollback_layer
from gis.errors import Conflict, DatabaseUnavailable, InvalidParameter, NotFound, PreconditionRequired
from gis.etag import make_etag
from layers import LAYERS

router = APIRouter(prefix="/admin", tags=["admin"])
Editor = Annotated[Staff, Depends(require_role("admin", "editor"))]
LayerId = Annotated[str, PathParam(description="collection id, e.g. cemeteries", max_length=64)]
JST = ZoneInfo("Asia/Tokyo")
# Any ETag this service sends for a layer starts with its version ("<version>-<digest>"); a bare version works too.
_VERSION_TAG = re.compile(r'^(?:W/)?"?(\d{1,18})(?:-[0-9a-f]+)?"?$')
LOCK_TIMEOUT_MS = 30_000
ROLE_ERRORS = {401: {"description": "no or unknown staff token"}, 403: {"description": "not an editor or admin"}}


def _when(name: str, value: str | None, *, end: bool = False) -> datetime | None:
    """An ISO date or date-time (JST when no offset is given); a bare date `until` means the end of that day."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime.combine(day, time.max if end else time.min, JST)
        t = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidParameter(f"{name}: an ISO 8601 date or date-time, e.g. 2026-12-01 or 2026-12-01T09:00") from None
    return t if t.tzinfo else t.replace(tzinfo=JST)


@router.get(
    "/audit",
    summary="Every recorded row change: who (token name and role), when (JST), layer, feature, operation, "
    "before and after, request id (staff: editor or admin)",
    responses=ROLE_ERRORS,
)
async def audit(
    staff: Editor,
    conn: StaffConn,
    layer: Annotated[str | None, Query(description="collection id", max_length=64)] = None,
    actor: Annotated[str | None, Query(description="token name, `cli` or `loader`", max_length=200)] = None,
    op: Annotated[str | None, Query(description="insert | update | delete")] = None,
    since: Annotated[str | None, Query(description="from this date or date-time (JST unless offset given)")] = None,
    until: Annotated[str | None, Query(description="before this date-time (a date: to the end of that day)")] = None,
    feature: Annotated[int | None, Query(description="feature id (with layer)", ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict:
    """The audit, newest first. Updates name only the columns they changed; geometry is hex EWKB; changes of
    private rows (personal data) are marked `private` and are shown only here."""
    if layer is not None and layer not in LAYERS:
        raise NotFound(f"collection '{layer}' not found")
    flt = AuditFilter(layer, actor, op, _when("since", since), _when("until", until, end=True), feature, limit, offset)
    rows = await aaudit(conn, flt)
    return {"changes": rows, "limit": limit, "offset": offset, "numberReturned": len(rows)}


@router.get(
    "/layers/{layer_id}/history",
    summary="A layer's revisions, newest first, with rows added/changed/removed (staff: editor or admin)",
    responses={**ROLE_ERRORS, 404: {"description": "unknown collection"}},
)
async def layer_history(
    staff: Editor,
    conn: StaffConn,
    response: Response,
    layer_id: LayerId,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict:
    """The revisions and the layer's version; the ETag (or the version) goes into If-Match of a rollback."""
    if layer_id not in LAYERS:
        raise NotFound(f"collection '{layer_id}' not found")
    version = await conn.fetchval("SELECT version FROM layer_state WHERE layer_id = $1", layer_id) or 0
    response.headers["ETag"] = make_etag(layer_id, version, ("history",))
    answer = await ahistory(conn, layer_id, limit, offset)
    return {"layer": layer_id, "version": version, **answer, "limit": limit, "offset": offset}


class RollbackBody(BaseModel):
    """The revision to restore."""

    model_config = ConfigDict(extra="forbid")
    revision: int = Field(..., ge=1, description="restore the layer as it was after this revision")


def _if_match(request: Request, layer_id: str) -> int:
    header = request.headers.get("if-match", "").strip()
    if not header:
        raise PreconditionRequired(
            f"If-Match: required; send the ETag of GET /admin/layers/{layer_id}/history (or the layer version)"
        )
    m = _VERSION_TAG.match(header)
    if m is None:
        raise InvalidParameter("If-Match: one ETag of this layer (or its version number); '*' is not accepted")
    return int(m.group(1))


def _rollback_in_thread(url: str, layer_id: str, revision: int, staff: Staff, rid: str, version: int) -> dict:
    """The restore runs on psycopg (one transaction; derived layers re-derive on the importer's code)."""
    try:
        with psycopg.connect(url, connect_timeout=10, options=f"-c lock_timeout={LOCK_TIMEOUT_MS}") as conn:
            r = rollback(
                conn, layer_id, revision, actor=staff.name, actor_role=staff.role, request_id=rid, if_version=version
            )
    except psycopg.errors.LockNotAvailable:
        raise Conflict(f"another change of {layer_id} is running; try again when it has finished") from None
    except psycopg.OperationalError as e:
        raise DatabaseUnavailable("the database is not reachable right now; try again shortly") from e
    return {
        "layer": r.layer,
        "rolled_back_to": r.to_revision,
        "revision": r.revision,
        "revision_id": r.revision_id,
        "version": r.version,
        "rows_added": r.rows_added,
        "rows_changed": r.rows_changed,
        "rows_removed": r.rows_removed,
        "report": r.report,
    }


@router.post(
    "/layers/{layer_id}/rollback",
    summary="Restore a layer (and its private rows) as it was after a revision; the rollback is a new revision "
    "(staff: editor or admin; If-Match required)",
    responses={
        **ROLE_ERRORS,
        400: {"description": "the revision is the current one, or a bad body"},
        404: {"description": "unknown collection or revision"},
        409: {"description": "a derived layer, a later schema change, rows other tables refer to, a busy layer"},
        412: {"description": "If-Match names a version that is no longer current"},
        428: {"description": "If-Match is required"},
    },
)
async def layer_rollback(
    request: Request, response: Response, staff: Editor, rt: Rt, layer_id: LayerId, body: RollbackBody
) -> dict:
    """Apply the inverse of every later revision in one transaction, bump the version, re-derive what depends on
    the layer; answers the new revision and the layer's new ETag."""
    rollback_layer(layer_id)  # 404 / 409 before anything else
    version = _if_match(request, layer_id)
    rid = request_id(request)
    response.headers["X-Request-Id"] = rid
    answer = await asyncio.to_thread(_rollback_in_thread, rt.db_url, layer_id, body.revision, staff, rid, version)
    response.headers["ETag"] = make_etag(layer_id, answer["version"], ("history",))
    return {**answer, "actor": staff.name, "request_id": rid}
