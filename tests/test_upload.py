"""Staff upload (POST /admin/layers/{id}/import): the preview diff changes nothing, apply is one transaction."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import psycopg
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import Point

from gis.db.tokens import create_token
from gis.settings import Settings
from layers import LAYERS
from tests.conftest import make_client

CITY = "41206"
LEDGER = LAYERS["cemeteries"]


def checksum(conn: psycopg.Connection, layer_id: str) -> str:
    """md5 of every row of the layer (geometry included) and of its private rows, in id order."""
    layer = LAYERS[layer_id]
    parts = [f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) FROM \"{layer_id}\" t"]
    if layer.private_table:
        table = f'private."{layer.private_table}"'
        parts.append(f"SELECT md5(coalesce(string_agg(p::text, '|' ORDER BY p::text), '')) FROM {table} p")
    return "/".join(conn.execute(q).fetchone()[0] for q in parts)


def ledger_rows(conn: psycopg.Connection, city: str = CITY) -> list[dict[str, str]]:
    """The city's cemetery rows as a ledger CSV would carry them (Japanese headings, lon/lat, private columns)."""
    public = [c.name for c in LEDGER.public_columns]
    private = [c.name for c in LEDGER.columns if not c.public]
    cols = ", ".join([*(f"t.{n}" for n in public), *(f"p.{n}" for n in private)])
    rows = conn.execute(
        f"SELECT t.feature_key, t.sample, ST_X(t.geom), ST_Y(t.geom), {cols} FROM cemeteries t "
        f"LEFT JOIN private.{LEDGER.private_table} p ON p.{LEDGER.private_key} = t.id "
        "WHERE t.city_code = %s ORDER BY t.feature_key",
        (city,),
    ).fetchall()
    out = []
    for key, sample, lon, lat, *values in rows:
        row = {"ID": key, "全国地方公共団体コード": city, "経度": f"{lon:.7f}", "緯度": f"{lat:.7f}"}
        row["sample"] = "true" if sample else "false"
        for col, value in zip([*public, *private], values, strict=True):
            heading = next((a for a in col_aliases(col)), col)
            row[heading] = (
                "" if value is None else ("true" if value is True else "false" if value is False else str(value))
            )
        out.append(row)
    return out


def col_aliases(name: str) -> list[str]:
    col = next(c for c in LEDGER.columns if c.name == name)
    return [a if isinstance(a, str) else a.name for a in col.aliases]


def to_csv(rows: list[dict[str, str]]) -> bytes:
    """The rows as UTF-8 CSV (headings from the first row)."""
    buf = io.StringIO()
    names = list(dict.fromkeys(k for r in rows for k in r))
    writer = csv.DictWriter(buf, fieldnames=names)
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def edited_ledger(conn: psycopg.Connection) -> tuple[bytes, dict[str, str]]:
    """The ledger with one cemetery renamed, one dropped and one new one: (CSV, the keys involved)."""
    rows = ledger_rows(conn)
    name = col_aliases("name")[0]
    renamed, dropped = rows[0]["ID"], rows[-1]["ID"]
    rows[0][name] = rows[0][name] + "（改称）"
    rows.pop()
    new = dict(rows[1])
    new.update({"ID": "C41206-NEW", name: "（サンプル）新設墓地", "経度": "130.0185000", "緯度": "33.1940000"})
    rows.append(new)
    return to_csv(rows), {"renamed": renamed, "dropped": dropped, "added": "C41206-NEW"}


@pytest.fixture
def env(scratch_url: str, tmp_path: Path) -> Iterator[dict]:
    """A client on a scratch database with an editor's, an admin's and a device's token."""
    with psycopg.connect(scratch_url) as conn:
        tokens = {role: create_token(conn, f"取込テスト {role}", role) for role in ("editor", "admin", "device")}
    with make_client(scratch_url, tmp_path) as client:
        yield {"client": client, "url": scratch_url, "tokens": tokens, "var": tmp_path}


def post(env: dict, layer: str, name: str, data: bytes, role: str = "editor", **fields: str):  # noqa: ANN201
    headers = {"Authorization": f"Bearer {env['tokens'][role]}"} if role else {}
    headers["X-Request-Id"] = fields.pop("request_id", "test-upload")
    return env["client"].post(
        f"/admin/layers/{layer}/import",
        files={"file": (name, data, "application/octet-stream")},
        data=fields,
        headers=headers,
    )


def state(url: str, layer: str) -> tuple[str, int, int]:
    with psycopg.connect(url) as conn:
        version = conn.execute("SELECT version FROM layer_state WHERE layer_id = %s", (layer,)).fetchone()[0]
        sources = conn.execute("SELECT count(*) FROM sources WHERE layer_id = %s", (layer,)).fetchone()[0]
        return checksum(conn, layer), version, sources


def test_preview_is_the_diff_and_changes_nothing_then_apply_is_one_revision(env: dict) -> None:
    with psycopg.connect(env["url"]) as conn:
        data, keys = edited_ledger(conn)
        revisions = conn.execute("SELECT count(*) FROM layer_revisions").fetchone()[0]
    before = state(env["url"], "cemeteries")
    r = post(env, "cemeteries", "墓地台帳.csv", data, dry_run="true", replace="true", request_id="preview-1")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["dry_run"] is True and body["applied"] is False and body["cities"] == [CITY]
    diff = body["diff"]
    assert diff["counts"]["added"] == 1 and diff["counts"]["removed"] == 1, diff["counts"]
    assert [a["key"] for a in diff["added"]] == [keys["added"]]
    assert [a["key"] for a in diff["removed"]] == [keys["dropped"]]
    renamed = next(c for c in diff["changed"] if c["key"] == keys["renamed"])
    assert renamed["fields"] == ["name"] and renamed["after"]["name"].endswith("（改称）")
    assert diff["changed_fields"].get("name", 0) >= 1
    assert diff["added"][0]["after"]["geom"] == [130.0185, 33.194]
    assert r.headers["x-request-id"] == "preview-1" and body["request_id"] == "preview-1"
    # Nothing happened: rows, private rows, version, provenance, revisions.
    assert state(env["url"], "cemeteries") == before
    with psycopg.connect(env["url"]) as conn:
        assert conn.execute("SELECT count(*) FROM layer_revisions").fetchone()[0] == revisions

    r = post(env, "cemeteries", "墓地台帳.csv", data, replace="true", request_id="apply-1")
    assert r.status_code == 200, r.text
    applied = r.json()
    assert applied["applied"] is True and applied["version"] > before[1] and applied["version_before"] == before[1]
    assert applied["diff"]["counts"] == diff["counts"]
    after = state(env["url"], "cemeteries")
    assert after[0] != before[0] and after[1] == applied["version"] and after[2] == before[2] + 1
    with psycopg.connect(env["url"]) as conn:
        rev = conn.execute(
            "SELECT revision, kind, actor, request_id FROM layer_revisions WHERE layer_id = 'cemeteries' "
            "ORDER BY id DESC LIMIT 1"
        ).fetchone()
        names = {k for (k,) in conn.execute("SELECT feature_key FROM cemeteries WHERE city_code = %s", (CITY,))}
        source = conn.execute("SELECT file_name FROM sources WHERE id = %s", (applied["source_id"],)).fetchone()
    assert rev == (applied["revision"], "import", "取込テスト editor", "apply-1")
    assert keys["added"] in names and keys["dropped"] not in names
    assert source == ("墓地台帳.csv",)
    # The same file again is no change at all.
    again = post(env, "cemeteries", "墓地台帳.csv", data, dry_run="true", replace="true").json()["diff"]
    assert again["counts"] == {"added": 0, "changed": 0, "removed": 0}
    assert not list((env["var"] / "uploads").iterdir())  # every spooled upload was removed


def test_a_failing_apply_changes_nothing(env: dict) -> None:
    with psycopg.connect(env["url"]) as conn:
        rows = ledger_rows(conn)
    before = state(env["url"], "cemeteries")
    # A cemetery in the sea west of Imari, far outside 武雄市: refused after staging, rolled back.
    stray = dict(rows[0], ID="C41206-STRAY", 経度="129.5000000", 緯度="33.3000000")
    r = post(env, "cemeteries", "ledger.csv", to_csv([*rows, stray]), replace="true")
    assert r.status_code == 400 and r.json()["code"] == "ImportFailed", r.text
    assert "outside" in r.json()["description"]
    # Dropping most of the city's rows needs force: refused by the replace guard, nothing half-applied.
    r = post(env, "cemeteries", "ledger.csv", to_csv(rows[:2]), replace="true")
    assert r.status_code == 400 and "force" in r.json()["description"], r.text
    # A value the column cannot hold.
    bad = dict(rows[0], ID="C41206-BAD")
    bad[col_aliases("plots")[0]] = "たくさん"
    r = post(env, "cemeteries", "ledger.csv", to_csv([*rows, bad]), replace="true")
    assert r.status_code == 400 and "plots" in r.json()["description"], r.text
    assert state(env["url"], "cemeteries") == before
    assert not list((env["var"] / "uploads").iterdir())


def test_vector_formats_preview(env: dict, tmp_path: Path) -> None:
    """GeoJSON, GeoPackage, FlatGeobuf and a zipped Shapefile of garbage points read as `gis import` reads them."""
    frame = gpd.GeoDataFrame(
        {"name": ["テスト集積所"], "group_id": ["41206-A"], "city_code": [CITY], "point_code": ["T-1"]},
        geometry=[Point(130.0190, 33.1950)],
        crs=6668,
    )
    before = state(env["url"], "garbage_points")
    for suffix, driver in ((".geojson", "GeoJSON"), (".gpkg", "GPKG"), (".fgb", "FlatGeobuf"), (".zip", None)):
        path = tmp_path / f"points{suffix}"
        if driver is None:
            shp = tmp_path / "shp" / "points.shp"
            shp.parent.mkdir()
            frame.to_file(shp, driver="ESRI Shapefile", encoding="utf-8")
            with zipfile.ZipFile(path, "w") as z:
                for part in shp.parent.iterdir():
                    z.write(part, part.name)
        else:
            frame.to_file(path, driver=driver)
        r = post(env, "garbage_points", path.name, path.read_bytes(), dry_run="true")
        assert r.status_code == 200, (suffix, r.text)
        diff = r.json()["diff"]
        assert diff["counts"] == {"added": 1, "changed": 0, "removed": 0}, suffix
        assert diff["added"][0]["after"]["name"] == "テスト集積所" and diff["added"][0]["key"] == "T-1"
    assert state(env["url"], "garbage_points") == before


def test_errors_name_the_problem(env: dict) -> None:
    csv_bytes = "名称,経度,緯度\n墓地,130.0185,33.194\n".encode()
    cases = [
        (post(env, "nope", "a.csv", csv_bytes), 404, "unknown layer"),
        (post(env, "noise_zones", "a.csv", csv_bytes), 409, "derived from zoning"),
        (post(env, "cemeteries", "a.csv", csv_bytes, role=None), 401, "staff token"),
        (post(env, "cemeteries", "a.csv", csv_bytes, role="device"), 403, "editor"),
        (post(env, "cemeteries", "a.txt", csv_bytes), 400, "unsupported file type"),
        (post(env, "cemeteries", "a.shp", csv_bytes), 400, "zip"),
        (post(env, "cemeteries", "a.csv", b""), 400, "empty"),
        (post(env, "cemeteries", "a.csv", "名称,x\n墓地,1\n".encode()), 400, "coordinate columns"),
        (post(env, "cemeteries", "a.geojson", b"{not json"), 400, "cannot read a.geojson"),
        (post(env, "cemeteries", "a.csv", csv_bytes, city="99999"), 400, "city"),
        (post(env, "cemeteries", "a.csv", csv_bytes, dry_run="maybe"), 400, "dry_run"),
        (post(env, "cemeteries", "a.csv", csv_bytes, colour="red"), 400, "colour"),
        (post(env, "cemeteries", "a.csv", csv_bytes, data_date="2026-13-01"), 400, "data_date"),
    ]
    for response, status, words in cases:
        assert response.status_code == status, (words, response.text)
        body = response.json()
        assert set(body) == {"code", "description"} and words in body["description"], (words, body)
    r = env["client"].post(
        "/admin/layers/cemeteries/import",
        data={"dry_run": "true"},
        headers={"Authorization": f"Bearer {env['tokens']['editor']}"},
    )
    assert r.status_code == 400 and r.json()["description"].startswith("file:")
    assert not list((env["var"] / "uploads").iterdir())


def test_size_limit_is_a_json_413(scratch_url: str, tmp_path: Path) -> None:
    with psycopg.connect(scratch_url) as conn:
        token = create_token(conn, "大きな取込", "editor")
    app_settings = Settings(database_url=scratch_url, var_dir=tmp_path, max_upload_mib=1)
    from api.main import create_app

    with TestClient(create_app(app_settings)) as client:
        big = b"x" * (1024 * 1024 + 10)
        r = client.post(
            "/admin/layers/cemeteries/import",
            files={"file": ("big.csv", big, "text/csv")},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert r.status_code == 413 and r.json()["code"] == "PayloadTooLarge"


def test_openapi_documents_the_upload(client: TestClient) -> None:
    op = client.get("/api").json()["paths"]["/admin/layers/{layer_id}/import"]["post"]
    schema = op["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert schema["required"] == ["file"] and {"dry_run", "replace", "crs", "city"} <= set(schema["properties"])
    assert {"400", "401", "403", "404", "409", "413"} <= set(op["responses"])
