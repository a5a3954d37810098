"""OWSLib's OGC API Features Part 4 calls (create, update, delete) against the service on a real uvicorn."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import owslib.ogcapi
import psycopg
import pytest
import uvicorn
from owslib.ogcapi.features import Features

from api.main import create_app
from gis.db.tokens import create_token
from gis.settings import Settings
from tests.conftest import Cluster, _free_port


@pytest.fixture(scope="module")
def live_edit(cluster: Cluster, loaded_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    """A writable copy of the loaded database served by uvicorn on a loopback port, and an editor token."""
    name = "gis_edit_owslib"
    url = cluster.create(name, template=loaded_template)
    with psycopg.connect(url) as conn:
        token = create_token(conn, "OWSLib 編集者", "editor")
        group = conn.execute("SELECT min(group_id) FROM garbage_groups WHERE city_code = '41206'").fetchone()[0]
    port = _free_port()
    app = create_app(Settings(database_url=url, var_dir=Path(tmp_path_factory.mktemp("owslib"))))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", token, group
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        cluster.drop(name)


def test_owslib_creates_updates_and_deletes(live_edit: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    base, token, group = live_edit
    # OWSLib keeps its request headers in a module-level dict it updates in place: give this test its own copy.
    monkeypatch.setattr(owslib.ogcapi, "REQUEST_HEADERS", dict(owslib.ogcapi.REQUEST_HEADERS))
    api = Features(base, headers={"Authorization": f"Bearer {token}"})
    assert (
        "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete"
        in api.conformance()["conformsTo"]
    )
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [130.0205, 33.1962]},
        "properties": {"name": "OWSLib集積所", "group_id": group},
    }
    assert api.collection_item_create("garbage_points", feature)
    location = api.response_headers["Location"]
    fid = location.rsplit("/", 1)[1]
    assert location.startswith(f"{base}/collections/garbage_points/items/")

    got = api.collection_item("garbage_points", fid)
    assert got["properties"]["name"] == "OWSLib集積所" and got["properties"]["city_code"] == "41206"
    etag = api.response_headers["ETag"]

    feature["properties"]["name"] = "OWSLib集積所（改）"
    api.headers["If-Match"] = etag
    assert api.collection_item_update("garbage_points", fid, feature)
    assert api.collection_item("garbage_points", fid)["properties"]["name"] == "OWSLib集積所（改）"
    fresh = api.response_headers["ETag"]
    assert fresh != etag

    # The old ETag is stale now: OWSLib raises with the server's 412 answer.
    api.headers["If-Match"] = etag
    with pytest.raises(RuntimeError, match="PreconditionFailed"):
        api.collection_item_delete("garbage_points", fid)

    api.headers["If-Match"] = fresh
    assert api.collection_item_delete("garbage_points", fid)
    api.headers.pop("If-Match")
    with pytest.raises(RuntimeError, match="NotFound"):
        api.collection_item("garbage_points", fid)
