"""Staff endpoints behind bearer tokens: who am I, and the provenance log with import reports."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends

from api.deps import Staff, StaffConn, require_role

router = APIRouter(prefix="/admin", tags=["admin"])
AnyStaff = Annotated[Staff, Depends(require_role("admin", "editor", "device"))]
Editor = Annotated[Staff, Depends(require_role("admin", "editor"))]


@router.get("/whoami", summary="The holder and role of the presented token")
async def whoami(staff: AnyStaff) -> dict:
    """Echo the token's holder and role."""
    return {"id": staff.id, "name": staff.name, "role": staff.role}


@router.get("/sources", summary="Every load with its provenance and import report (staff only)")
async def sources(staff: Editor, conn: StaffConn) -> list[dict]:
    """The provenance log, newest first."""
    rows = await conn.fetch(
        "SELECT id, layer_id, title, publisher, licence, data_date, sample, derived, city_codes, row_count, "
        "file_name, file_sha256, report, loaded_at FROM sources ORDER BY id DESC LIMIT 500"
    )
    out = []
    for r in rows:
        d = dict(r)
        d["data_date"] = d["data_date"].isoformat() if d["data_date"] else None
        d["loaded_at"] = d["loaded_at"].isoformat()
        d["report"] = json.loads(d["report"]) if d["report"] else []
        out.append(d)
    return out
