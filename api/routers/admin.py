"""Staff endpoints behind bearer tokens: who am I, the provenance log, and correcting a source's metadata."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field

from api.deps import Staff, StaffConn, require_role
from gis.db.provenance import abump_version
from gis.errors import InvalidParameter, NotFound

router = APIRouter(prefix="/admin", tags=["admin"])
AnyStaff = Annotated[Staff, Depends(require_role("admin", "editor", "device"))]
Editor = Annotated[Staff, Depends(require_role("admin", "editor"))]
LOG_SQL = (
    "SELECT id, layer_id, title, publisher, licence, licence_url, attribution, data_date, sample, derived, "
    "city_codes, row_count, file_name, file_sha256, report, note, loaded_at FROM sources"
)


class SourcePatch(BaseModel):
    """The descriptive fields of a source that staff may correct (the rows and files stay as loaded)."""

    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(None, min_length=1, max_length=500)
    publisher: str | None = Field(None, min_length=1, max_length=500)
    licence: str | None = Field(None, min_length=1, max_length=500)
    licence_url: str | None = Field(None, max_length=2000)
    attribution: str | None = Field(None, min_length=1, max_length=2000)
    data_date: date | None = None
    note: str | None = Field(None, max_length=4000)


def _log_row(r: dict) -> dict:
    d = dict(r)
    d["data_date"] = d["data_date"].isoformat() if d["data_date"] else None
    d["loaded_at"] = d["loaded_at"].isoformat()
    d["report"] = json.loads(d["report"]) if d["report"] else []
    return d


@router.get("/whoami", summary="The holder and role of the presented token")
async def whoami(staff: AnyStaff) -> dict:
    """Echo the token's holder and role."""
    return {"id": staff.id, "name": staff.name, "role": staff.role}


@router.get("/sources", summary="Every load with its provenance and import report (staff only)")
async def sources(staff: Editor, conn: StaffConn) -> list[dict]:
    """The provenance log, newest first."""
    return [_log_row(r) for r in await conn.fetch(LOG_SQL + " ORDER BY id DESC LIMIT 500")]


@router.patch("/sources/{source_id}", summary="Correct a source's title, publisher, licence, attribution or date")
async def patch_source(
    staff: Editor,
    conn: StaffConn,
    source_id: Annotated[int, Path(description="source id from GET /admin/sources", ge=1, le=2**31 - 1)],
    patch: SourcePatch,
) -> dict:
    """Update the fields given; the layer's version is bumped in the same transaction, so every page, item, tile
    and report that cites the source shows the correction at once (in every worker)."""
    changes = patch.model_dump(exclude_unset=True)
    if not changes:
        raise InvalidParameter("body: give at least one of " + ", ".join(SourcePatch.model_fields))
    if any(v is None for k, v in changes.items() if k not in ("licence_url", "data_date", "note")):
        raise InvalidParameter("body: title, publisher, licence and attribution cannot be emptied")
    names = list(changes)
    assignments = ", ".join(f"{n} = ${i + 2}" for i, n in enumerate(names))
    async with conn.transaction():
        layer_id = await conn.fetchval(
            f"UPDATE sources SET {assignments} WHERE id = $1 RETURNING layer_id", source_id, *changes.values()
        )
        if layer_id is None:
            raise NotFound(f"no source {source_id}")
        version = await abump_version(conn, layer_id)
    row = await conn.fetchrow(LOG_SQL + " WHERE id = $1", source_id)
    return {**_log_row(row), "layer_version": version, "changed_by": staff.name}
