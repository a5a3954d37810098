"""GET /health: database reachable, the version listener listening, layer versions, cache use."""

from __future__ import annotations

import asyncpg
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import Rt

router = APIRouter(tags=["health"])


@router.get("/health", summary="Service health: database, version listener, layer versions, cache")
async def health(rt: Rt) -> JSONResponse:
    """`ok`, `degraded` (answers, but later writes may not show until the listener is back) or 503 `error`."""
    try:
        async with rt.public_pool.acquire(timeout=5) as conn:
            rows = await conn.fetch("SELECT layer_id, version, updated_at FROM layer_state ORDER BY layer_id")
            pg = await conn.fetchval("SELECT postgis_lib_version()")
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
        return JSONResponse({"status": "error", "database": "unreachable", "listener": rt.versions.status()}, 503)
    listener = rt.versions.status()
    return JSONResponse(
        {
            "status": "ok" if listener["listening"] else "degraded",
            "database": "ok",
            "listener": listener,
            "postgis": pg,
            "layers": {
                r["layer_id"]: {"version": r["version"], "updated_at": r["updated_at"].isoformat()} for r in rows
            },
            "cache": rt.cache.stats(),
        }
    )
