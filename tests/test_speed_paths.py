"""What the fast paths of issue 16 rely on, checked: public connections go back to the pool without a reset.

(asyncpg's type introspection sets `jit` at session level to the value it already had; a setting whose value
equals what RESET would give is no state.)
"""

from __future__ import annotations

import asyncio
import gc
import json
import re

import psycopg
import pytest
from fastapi.testclient import TestClient

from gis import heap
from gis.ogc.items import items_sql, page_sql
from gis.ogc.params import ItemsRequest, parse_items
from layers import LAYERS
from tests.test_tiles import tile_of

SESSION_STATE = """
SELECT (SELECT count(*) FROM pg_settings WHERE source = 'session' AND setting IS DISTINCT FROM reset_val)
     + (SELECT count(*) FROM pg_listening_channels())
     + (SELECT count(*) FROM pg_cursors WHERE name <> '')
     + (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid())
"""


def test_public_reads_leave_no_session_state(client: TestClient) -> None:
    """The public pool skips asyncpg's per-release reset; every kind of public read must leave nothing behind."""
    for path, params in [
        ("/collections/zoning/items", {"filter": "S_INTERSECTS(geom,POINT(130.0195 33.1955))"}),
        ("/collections/farmland/items", {"limit": 1500}),  # a streamed page: its own read-only transaction
        ("/collections/farmland/items", {"filter": "nonsense ((("}),  # an error mid-request
        ("/lookup", {"lat": 33.1955, "lon": 130.0195}),
        ("/lookup", {"address": "武雄市武雄町大字武雄"}),
        ("/tiles/all/{}/{}/{}.mvt".format(*tile_of(130.0195, 33.1955, 15)), {}),
        ("/farmland/parcels", {"city": "41206", "intention": "lend"}),
        ("/cemeteries", {"q": "墓地"}),
        ("/sta/v1.1/Things", {}),
        ("/collections/farmland/items", {"numberMatched": "true", "limit": 3}),
    ]:
        assert client.get(path, params=params).status_code < 500, path
    pool = client.app.state.runtime.public_pool

    async def states() -> list[tuple[int, bool]]:
        conns = [await pool.acquire() for _ in range(pool.get_size())]
        try:
            return [(await c.fetchval(SESSION_STATE), c.is_in_transaction()) for c in conns]
        finally:
            for c in conns:
                await pool.release(c)

    seen = client.portal.call(states)
    assert seen and all(n == 0 and not in_tx for n, in_tx in seen), seen
    assert asyncio.iscoroutinefunction(pool._reset)  # the light reset is the one in use (gis/runtime.py)


def test_start_up_objects_are_frozen_out_of_the_collector(client: TestClient) -> None:
    """After start-up the long-lived objects are frozen: full collections only walk what requests allocate."""
    assert client.get("/health").status_code == 200 and gc.get_freeze_count() > 100_000
    before = gc.get_freeze_count()
    heap.settle()  # as after a geocoder rebuild: collected, then frozen again (nothing frozen is lost)
    assert gc.get_freeze_count() >= before * 0.9


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "7"},
        {"limit": "5", "offset": "3", "sortby": "-kenpei,+youto_name"},
        {"bbox": "130.0,33.15,130.05,33.22", "limit": "1000"},
        {"filter": "kenpei >= 60", "sortby": "-id", "limit": "4"},
        {"filter": "youto_name = 'no such zone'"},
    ],
)
def test_a_page_in_one_value_equals_its_rows(conn: psycopg.Connection, params: dict) -> None:
    """page_sql (the features joined in PostgreSQL) gives the features of items_sql, in the same order."""
    q = parse_items(LAYERS["zoning"], ItemsRequest(**{k.replace("-", "_"): v for k, v in params.items()}))

    def run(sql: str, values: list) -> list:
        return conn.execute(
            re.sub(r"\$(\d+)", r"%(p\1)s", sql), {f"p{i}": v for i, v in enumerate(values, 1)}
        ).fetchall()

    rows = [r[0] for r in run(*items_sql(q))]
    joined, found, last = run(*page_sql(q))[0]
    assert found == len(rows)
    if found > q.limit:
        joined = joined[: len(joined) - last - 1]
    assert json.loads(b"[" + bytes(joined) + b"]") == [json.loads(r) for r in rows[: q.limit]]
