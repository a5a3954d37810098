"""HTTP edges: HEAD on every GET route, over-long query strings, and error responses as the OpenAPI document says."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.limits import MAX_QUERY_BYTES
from tests.test_tiles import TAKEO, tile_of

SAME = ("etag", "content-type", "content-length", "content-encoding", "cache-control", "content-crs")


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/", {}),
        ("/", {"f": "json"}),
        ("/collections", {}),
        ("/collections/zoning", {}),
        ("/collections/zoning/items", {"limit": "20"}),
        ("/collections/zoning/items/12", {}),
        ("/collections/farmland/items", {"limit": "1500"}),  # streamed
        ("/tiles/zoning/{}/{}/{}.mvt".format(*tile_of(*TAKEO, 14)), {}),
        ("/map", {}),
        ("/api", {}),
    ],
)
def test_head_answers_like_get_without_a_body(client: TestClient, path: str, params: dict) -> None:
    get = client.get(path, params=params)
    head = client.head(path, params=params)
    assert get.status_code == 200 and head.status_code == 200, (path, head.status_code)
    assert head.content == b""
    for name in SAME:
        assert head.headers.get(name) == get.headers.get(name), name


def test_head_keeps_errors_and_304(client: TestClient) -> None:
    assert client.head("/collections/nope/items").status_code == 404
    assert client.head("/collections/zoning/items", params={"limit": "0"}).status_code == 400
    etag = client.get("/collections/zoning/items").headers["etag"]
    assert client.head("/collections/zoning/items", headers={"if-none-match": etag}).status_code == 304
    assert client.head("/lookup").status_code == 400  # a GET route with required parameters


def test_over_long_query_string_is_a_json_414(client: TestClient) -> None:
    r = client.get("/collections/zoning/items", params={"filter": "youto_name = '" + "a" * MAX_QUERY_BYTES + "'"})
    assert r.status_code == 414 and r.json()["code"] == "URITooLong"
    assert str(MAX_QUERY_BYTES) in r.json()["description"]
    # Under the total limit but over the per-value limit: a 400 naming the parameter.
    r = client.get("/collections/zoning/items", params={"filter": "a" * 20_001})
    assert r.status_code == 400 and r.json()["description"].startswith("filter:")


def test_openapi_documents_the_errors_answered(client: TestClient) -> None:
    spec = client.get("/api").json()
    assert "Error" in spec["components"]["schemas"]
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    for path, item in spec["paths"].items():
        for method, op in item.items():
            responses = op["responses"]
            assert "422" not in responses, (method, path)
            assert "400" in responses, (method, path)
            for status, response in responses.items():
                if status.startswith(("4", "5")) and (path, status) != ("/health", "503"):
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, status)
    assert "404" in spec["paths"]["/collections/{collectionId}/items"]["get"]["responses"]
    assert "503" in spec["paths"]["/collections/zoning/items"]["get"]["responses"]
    assert {"401", "403"} <= set(spec["paths"]["/admin/sources"]["get"]["responses"])
    assert "413" in spec["paths"]["/lookup"]["post"]["responses"]
    assert "401" not in spec["paths"]["/collections"]["get"]["responses"]
    health = spec["paths"]["/health"]["get"]["responses"]["503"]["content"]["application/json"]["schema"]
    assert "status" in health["properties"]  # its own outage body, not the error shape
