"""GET /health: database reachable, layer versions."""

from __future__ import annotations

import asyncpg
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter(tags=["health"])


@router.get("/health", summary="Service health: database reachable and layer versions")
async def health(request: Request) -> JSONResponse:
    """Ping the database and report each layer's version and row count."""
    try:
        async with request.app.state.public_pool.acquire() as conn:
            rows = await conn.fetch("SELECT layer_id, version, updated_at FROM layer_state ORDER BY layer_id")
            pg = await conn.fetchval("SELECT postgis_lib_version()")
    except (OSError, asyncpg.PostgresError):
        return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
    return JSONResponse(
        {
            "status": "ok",
            "database": "ok",
            "postgis": pg,
            "layers": {
                r["layer_id"]: {"version": r["version"], "updated_at": r["updated_at"].isoformat()} for r in rows
            },
        }
    )
