"""Farmland inquiries: validation naming the field, the bot checks (form token, honeypot), the hourly limit, staff
reading and answering with tokens, and the privacy scan: nothing of an inquiry, an owner, a cultivator or a lessee
in any public answer, tile, download, page or log. Ends with the issue's "Done when" scenario."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import psycopg
import pytest

from gis.db.tokens import create_token
from gis.farmland import inquiries
from tests.conftest import Cluster, make_client

NAME = "見本 問合太郎"
CONTACT = "toiawase-mihon@example.jp"
MESSAGE = "見本の問い合わせ本文です。水田を借りたいと考えています。"


@pytest.fixture(scope="module")
def inq(cluster: Cluster, loaded_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """An app on its own copy of the loaded database (the tests write), with staff tokens."""
    name = "gis_farmland_inquiries"
    url = cluster.create(name, template=loaded_template)
    with psycopg.connect(url) as conn:
        editor = create_token(conn, "農業委員会 担当A", "editor")
        device = create_token(conn, "sensor-1", "device")
        conn.commit()
    try:
        with make_client(url, tmp_path_factory.mktemp("var-inq")) as client:
            yield SimpleNamespace(client=client, url=url, editor=editor, device=device)
    finally:
        cluster.drop(name)


@pytest.fixture
def fresh(inq: SimpleNamespace) -> SimpleNamespace:
    """Every earlier inquiry moved two hours back: this test's client starts with its whole hourly share."""
    with psycopg.connect(inq.url) as conn:
        conn.execute("UPDATE private.farmland_inquiries SET created_at = created_at - interval '2 hours'")
    return inq


def token(inq: SimpleNamespace, age: float = 10) -> str:
    """A form token opened `age` seconds ago."""
    return inquiries.issue_token(inq.client.app.state.runtime.settings, time.time() - age)


def parcels(inq: SimpleNamespace, city: str = "41206", n: int = 1, where: str = "TRUE") -> list[int]:
    with psycopg.connect(inq.url) as conn:
        rows = conn.execute(
            f"SELECT id FROM farmland WHERE urbanised IS NOT TRUE AND city_code = %s AND {where} ORDER BY id LIMIT %s",
            (city, n),
        ).fetchall()
    assert len(rows) == n
    return [r[0] for r in rows]


def inquiry(inq: SimpleNamespace, **change: object) -> dict:
    body = {
        "parcel_ids": parcels(inq),
        "name": NAME,
        "contact": CONTACT,
        "message": MESSAGE,
        "form_token": token(inq),
        "website": "",
    }
    return body | change


def post(inq: SimpleNamespace, body: object) -> object:
    return inq.client.post("/farmland/inquiries", json=body)


def staff(inq: SimpleNamespace, tok: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tok}"}


def test_an_inquiry_is_stored_privately_and_answered_by_the_committee(fresh: SimpleNamespace) -> None:
    r = post(fresh, inquiry(fresh))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["answered_by"]["name"] == "武雄市農業委員会" and body["received_at"].endswith("+09:00")
    assert r.headers["cache-control"] == "no-store"
    assert NAME not in r.text and CONTACT not in r.text and MESSAGE not in r.text
    with psycopg.connect(fresh.url) as conn:
        row = conn.execute(
            "SELECT name, contact, message, status, city_code, client_hash "
            "FROM private.farmland_inquiries WHERE id = %s",
            (body["id"],),
        ).fetchone()
    assert row[:5] == (NAME, CONTACT, MESSAGE, "open", "41206")
    assert row[5] and "testclient" not in row[5]  # a keyed hash, not the address


BAD_BODIES = [
    ({"message": "あ" * 2001}, "message"),
    ({"message": ""}, "message"),
    ({"name": ""}, "name"),
    ({"name": "a" * 101}, "name"),
    ({"contact": "ask me"}, "contact"),
    ({"parcel_ids": []}, "parcel_ids"),
    ({"parcel_ids": list(range(1, 22))}, "parcel_ids"),
    ({"parcel_ids": ["12"]}, "parcel_ids"),
    ({"parcel_ids": [999999999]}, "parcel_ids"),
    ({"website": "http://spam.example"}, "website"),
    ({"form_token": "1234.abcd.ef"}, "form_token"),
    ({"phone": "090"}, "phone"),
]


@pytest.mark.parametrize(("change", "field"), BAD_BODIES, ids=[f for _, f in BAD_BODIES])
def test_bad_inquiries_are_refused_naming_the_field(fresh: SimpleNamespace, change: dict, field: str) -> None:
    r = post(fresh, inquiry(fresh, **change))
    assert r.status_code == 400, r.text
    assert r.json()["description"].startswith(f"{field}"), r.json()
    assert NAME not in r.text and MESSAGE not in r.text  # errors never echo what was written


def test_unknown_and_non_public_parcels_are_named(fresh: SimpleNamespace) -> None:
    known = parcels(fresh)[0]
    r = post(fresh, inquiry(fresh, parcel_ids=[known, 987654321]))
    assert r.status_code == 400 and "987654321" in r.json()["description"]
    with psycopg.connect(fresh.url) as conn:
        urban = conn.execute("SELECT id FROM farmland WHERE urbanised LIMIT 1").fetchone()[0]
    r = post(fresh, inquiry(fresh, parcel_ids=[urban]))
    assert r.status_code == 400 and str(urban) in r.json()["description"]
    both = [parcels(fresh, "41205")[0], known]
    r = post(fresh, inquiry(fresh, parcel_ids=both))
    assert r.status_code == 400 and r.json()["description"].startswith("parcel_ids:")


def test_body_limits(fresh: SimpleNamespace) -> None:
    big = inquiry(fresh, message="x" * 17000)
    r = post(fresh, big)
    assert r.status_code == 413 and r.json()["description"].startswith("body:")
    r = fresh.client.post("/farmland/inquiries", content=b"name=x", headers={"content-type": "text/plain"})
    assert r.status_code == 400 and r.json()["description"].startswith("body:")
    r = fresh.client.post("/farmland/inquiries", content=b"[1, 2]", headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["description"].startswith("body:")


def test_form_token_must_be_ours_and_of_a_human_age(fresh: SimpleNamespace) -> None:
    form = fresh.client.get("/farmland/inquiries/form")
    assert form.status_code == 200 and form.headers["cache-control"] == "no-store"
    fast = post(fresh, inquiry(fresh, form_token=form.json()["form_token"]))  # sent at once: a program
    assert fast.status_code == 400 and fast.json()["description"].startswith("form_token:")
    old = post(fresh, inquiry(fresh, form_token=token(fresh, age=2 * 3600 + 5)))
    assert old.status_code == 400 and "2 hours" in old.json()["description"]
    good = token(fresh)
    forged = good[:-1] + ("0" if good[-1] != "0" else "1")
    assert post(fresh, inquiry(fresh, form_token=forged)).status_code == 400
    later = good.split(".")
    later[0] = str(int(later[0]) + 1000)  # the time changed, the signature kept
    assert post(fresh, inquiry(fresh, form_token=".".join(later))).status_code == 400
    assert post(fresh, inquiry(fresh, form_token=good)).status_code == 201


def test_five_an_hour_per_client_then_429_with_retry_after(fresh: SimpleNamespace) -> None:
    for _ in range(inquiries.PER_HOUR):
        assert post(fresh, inquiry(fresh)).status_code == 201
    r = post(fresh, inquiry(fresh))
    assert r.status_code == 429 and r.json()["code"] == "TooManyRequests"
    assert 3000 <= int(r.headers["retry-after"]) <= 3600
    with psycopg.connect(fresh.url) as conn:
        conn.execute("UPDATE private.farmland_inquiries SET created_at = created_at - interval '61 minutes'")
    assert post(fresh, inquiry(fresh)).status_code == 201  # the hour has passed
    with psycopg.connect(fresh.url) as conn:
        kept = conn.execute(
            "SELECT count(*) FROM private.farmland_inquiries "
            "WHERE client_hash IS NOT NULL AND created_at <= now() - interval '1 hour'"
        ).fetchone()[0]
    assert kept == 0  # a hash past its hour is forgotten


def test_staff_list_and_answer_with_tokens(fresh: SimpleNamespace) -> None:
    sent = post(fresh, inquiry(fresh)).json()
    c = fresh.client
    assert c.get("/farmland/inquiries").status_code == 401
    assert c.get("/farmland/inquiries", headers=staff(fresh, "nope")).status_code == 401
    assert c.get("/farmland/inquiries", headers=staff(fresh, fresh.device)).status_code == 403
    r = c.get("/farmland/inquiries?status=open&city=41206", headers=staff(fresh, fresh.editor))
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    mine = next(i for i in r.json()["inquiries"] if i["id"] == sent["id"])
    assert (mine["name"], mine["contact"], mine["message"]) == (NAME, CONTACT, MESSAGE)
    assert mine["parcels"] and "client_hash" not in mine
    url = f"/farmland/inquiries/{sent['id']}"
    assert c.patch(url, json={"status": "answered"}).status_code == 401
    assert c.patch(url, json={"status": "answered"}, headers=staff(fresh, fresh.device)).status_code == 403
    r = c.patch(url, json={"status": "answered", "staff_note": "電話で回答"}, headers=staff(fresh, fresh.editor))
    assert r.status_code == 200
    done = r.json()
    assert done["status"] == "answered" and done["answered_at"] and done["handled_by"] == "農業委員会 担当A"
    closed = c.patch(url, json={"status": "closed"}, headers=staff(fresh, fresh.editor)).json()
    assert closed["closed_at"] and closed["staff_note"] == "電話で回答"
    bad = c.patch(url, json={"status": "lost"}, headers=staff(fresh, fresh.editor))
    assert bad.status_code == 400 and bad.json()["description"].startswith("status:")
    assert c.patch(url, json={}, headers=staff(fresh, fresh.editor)).status_code == 400
    assert (
        c.patch(
            "/farmland/inquiries/99999999", json={"status": "closed"}, headers=staff(fresh, fresh.editor)
        ).status_code
        == 404
    )
    assert c.get("/farmland/inquiries?status=gone", headers=staff(fresh, fresh.editor)).status_code == 400


def _tile(lat: float, lon: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def test_privacy_nothing_personal_in_any_public_answer(
    fresh: SimpleNamespace, caplog: pytest.LogCaptureFixture
) -> None:
    """Owner, cultivator and lessee names (all containing 「見本」) and the inquiry appear in no public output."""
    caplog.set_level(logging.DEBUG)
    sent = post(fresh, inquiry(fresh))
    assert sent.status_code == 201
    with psycopg.connect(fresh.url) as conn:
        names = conn.execute(
            "SELECT count(*) FROM private.farmland_persons WHERE concat(owner_name, cultivator_name, lessee_name) "
            "LIKE '%見本%'"
        ).fetchone()[0]
        pid, lat, lon = conn.execute(
            "SELECT l.polygon_id, ST_Y(ST_PointOnSurface(f.geom)), ST_X(ST_PointOnSurface(f.geom)) "
            "FROM farmland_links l JOIN farmland f ON f.id = l.polygon_id "
            "JOIN private.farmland_persons p ON p.ledger_id = l.ledger_id "
            "WHERE f.urbanised IS NOT TRUE AND p.lessee_name IS NOT NULL ORDER BY 1 LIMIT 1"
        ).fetchone()
    assert names > 0  # the private names exist, so their absence below means something
    x, y = _tile(lat, lon, 15)
    paths = [
        "/farmland/parcels?limit=500",
        f"/farmland/parcels?lat={lat:.6f}&lon={lon:.6f}&within_m=500&limit=500",
        "/farmland/parcels?intention=lend&limit=500",
        f"/farmland/parcels/{pid}",
        "/farmland/stats",
        "/farmland/inquiries/form",
        "/collections/farmland",
        "/collections/farmland/items?limit=10000",
        f"/collections/farmland/items/{pid}",
        "/collections/farmland/items?f=csv&limit=10000&offset=10000",
        # One download format: they are all written from the same public columns (and each takes seconds).
        "/collections/farmland/download?f=gpkg",
        "/collections/farmland/queryables",
        f"/tiles/farmland/15/{x}/{y}.mvt",
        f"/tiles/all/15/{x}/{y}.mvt",
        f"/lookup?lat={lat:.6f}&lon={lon:.6f}",
        "/map/farmland",
        "/map",
        "/",
        "/api",
    ]
    needles = [s.encode() for s in ("見本", NAME, CONTACT, MESSAGE, "問合太郎")]
    for path in paths:
        r = fresh.client.get(path)
        assert r.status_code in (200, 204), (path, r.status_code)
        for needle in needles:
            assert needle not in r.content, (path, needle.decode())
    logged = caplog.text
    for text in (NAME, CONTACT, MESSAGE, "問合太郎"):
        assert text not in logged


def test_done_when_seeker_filters_opens_sends_and_staff_reads(
    fresh: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Takeo, 田, over 2,000 m², owners want to lend → one parcel with its dates → an inquiry staff read, not the
    public."""
    c = fresh.client
    found = c.get("/farmland/parcels?city=41206&land_type=100&area_min=2000&intention=lend").json()
    assert found["numberReturned"] > 0
    for f in found["features"]:
        p = f["properties"]
        assert (p["city_code"], p["land_type_name"], p["intention_label"]) == ("41206", "田", "貸したい")
        assert p["area_m2"] >= 2000 and p["data_date"]
    chosen = found["features"][0]["id"]
    parcel = c.get(f"/farmland/parcels/{chosen}").json()
    assert parcel["records"] and all(r["location"]["data_date"] for r in parcel["records"])
    assert parcel["contact"]["name"] == "武雄市農業委員会"
    form = c.get("/farmland/inquiries/form").json()
    # The seeker takes a while to write: the form was opened seconds before it is sent.
    real = time.time
    monkeypatch.setattr(inquiries, "time", SimpleNamespace(time=lambda: real() + 30))
    sent = post(fresh, inquiry(fresh, parcel_ids=[chosen], form_token=form["form_token"]))
    assert sent.status_code == 201, sent.text
    assert sent.json()["answered_by"]["name"] == "武雄市農業委員会"
    listed = c.get("/farmland/inquiries", headers=staff(fresh, fresh.editor)).json()["inquiries"]
    assert any(i["id"] == sent.json()["id"] and i["parcel_ids"] == [chosen] for i in listed)
    assert c.get("/farmland/inquiries").status_code == 401
    for path in (f"/farmland/parcels/{chosen}", "/farmland/parcels?city=41206&intention=lend&limit=500"):
        assert NAME.encode() not in c.get(path).content


def test_the_public_role_cannot_read_inquiries(inq: SimpleNamespace) -> None:
    rt = inq.client.app.state.runtime

    async def read() -> str:
        async with rt.public_conn() as conn:
            try:
                await conn.fetch("SELECT name FROM private.farmland_inquiries")
            except Exception as e:  # noqa: BLE001 (the kind of refusal is what is checked)
                return type(e).__name__
        return "readable"

    assert inq.client.portal.call(read) == "InsufficientPrivilegeError"
    assert Path(inquiries.key_file(rt.settings)).stat().st_mode & 0o077 == 0  # the form key: owner only
