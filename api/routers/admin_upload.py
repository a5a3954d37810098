"""Staff upload: POST /admin/layers/{id}/import (multipart), previewed as a diff (`dry_run`) or applied."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import psycopg
from fastapi import APIRouter, Depends, Request, Response
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.datastructures import UploadFile

from api.deps import Rt, Staff, request_id, require_role
from gis.edits.upload import Actor, UploadOptions, importable_layer, run_upload, safe_file_name, spooled
from gis.errors import Conflict, DatabaseUnavailable, ImportFailed, InvalidParameter

router = APIRouter(prefix="/admin", tags=["admin"])
Editor = Annotated[Staff, Depends(require_role("admin", "editor"))]
LayerId = Annotated[str, PathParam(description="collection id, e.g. cemeteries", max_length=64)]
CHUNK = 1 << 20
LOCK_TIMEOUT_MS = 30_000


class UploadFields(BaseModel):
    """The form fields beside `file`: the options of `gis import` and the provenance of the load."""

    model_config = ConfigDict(extra="forbid")
    dry_run: bool = Field(False, description="true: check and diff only, change nothing")
    crs: str | None = Field(None, max_length=100, description="source CRS when the file has none, e.g. EPSG:6670")
    city: Literal["41205", "41206"] | None = Field(None, description="city code when the file has none")
    replace: bool = Field(False, description="replace the layer's rows of the file's cities")
    force: bool = Field(False, description="let replace drop most of a city's rows or move its extent")
    allow_outside: bool = Field(False, description="keep features outside their city (counted in the report)")
    layer_name: str | None = Field(None, max_length=200, description="layer inside a GeoPackage")
    title: str | None = Field(None, max_length=500, description="source title (default: the file name)")
    publisher: str = Field("不明（職員による取込）", min_length=1, max_length=500)
    licence: str = Field("要確認", min_length=1, max_length=500)
    attribution: str = Field("", max_length=2000)
    data_date: date | None = Field(None, description="data date YYYY-MM-DD")
    sample: bool = Field(False, description="mark every row as sample data")


def _form_schema() -> dict[str, Any]:
    fields = UploadFields.model_json_schema()
    props = {
        "file": {"type": "string", "format": "binary", "description": "GeoJSON, CSV, GeoPackage, zipped Shapefile"}
    }
    props |= fields["properties"]
    return {"type": "object", "required": ["file"], "properties": props}


def _fields(form: Any) -> UploadFields:
    values: dict[str, str] = {}
    for key, value in form.multi_items():
        if key == "file":
            continue
        if key in values:
            raise InvalidParameter(f"{key}: given more than once; give each field once")
        if not isinstance(value, str):
            raise InvalidParameter(f"{key}: must be a text field, not a file")
        if value.strip():  # an empty field of an HTML form means "not given"
            values[key] = value.strip()
    try:
        return UploadFields.model_validate(values)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "form"
        raise InvalidParameter(f"{where}: {first['msg']}") from None


async def _save(upload: UploadFile, path: Path) -> int:
    """Copy the parsed upload (already spooled by the form parser) to our file; its size."""
    size = 0
    with path.open("wb") as out:
        while chunk := await upload.read(CHUNK):
            size += len(chunk)
            await asyncio.to_thread(out.write, chunk)
    return size


def _upload_in_thread(url: str, layer_id: str, path: Path, options: UploadOptions, actor: Actor, dry: bool) -> dict:
    """The load runs on psycopg (COPY, the importer's one write path) in a worker thread."""
    try:
        with psycopg.connect(url, connect_timeout=10, options=f"-c lock_timeout={LOCK_TIMEOUT_MS}") as conn:
            return run_upload(conn, layer_id, path, options, actor, dry_run=dry)
    except psycopg.errors.LockNotAvailable:
        raise Conflict(f"another import of {layer_id} is running; try again when it has finished") from None
    except psycopg.OperationalError as e:
        raise DatabaseUnavailable("the database is not reachable right now; try again shortly") from e


@router.post(
    "/layers/{layer_id}/import",
    summary="Upload a file into a layer: preview the diff (dry_run) or apply it in one transaction",
    responses={
        409: {"description": "the layer is derived from another one, or another import of it is running"},
        413: {"description": "the file is over GIS_MAX_UPLOAD_MIB"},
    },
    openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": _form_schema()}}}},
)
async def import_upload(request: Request, response: Response, staff: Editor, rt: Rt, layer_id: LayerId) -> dict:
    """Read, map and check the file as `gis import` does. `dry_run=true` answers the import report and the diff
    against the current rows (added / changed with the fields / removed, counts and the first 50 of each) and
    changes nothing; otherwise the load is one transaction, recorded as an `import` revision under the token's name,
    answering the same report, the diff, the new layer version and the revision."""
    importable_layer(layer_id)  # 404 / 409 before the body is read
    rid = request_id(request)
    response.headers["X-Request-Id"] = rid
    form = await request.form(max_files=1, max_fields=len(UploadFields.model_fields) + 1)
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidParameter("file: attach the file as the multipart field 'file'")
        fields = _fields(form)
        name = safe_file_name(upload.filename)
        options = UploadOptions(**fields.model_dump(exclude={"dry_run"}))
        actor = Actor(staff.name, staff.role, rid)
        with spooled(Path(rt.settings.var_dir) / "uploads", name) as path:
            if await _save(upload, path) == 0:
                raise ImportFailed(f"file: {name} is empty")
            answer = await asyncio.to_thread(
                _upload_in_thread, rt.db_url, layer_id, path, options, actor, fields.dry_run
            )
    finally:
        await form.close()
    return {**answer, "actor": staff.name, "request_id": rid}
