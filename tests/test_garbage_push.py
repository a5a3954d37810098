"""Garbage reminders by Web Push: a browser's subscription through the API, `remind` posting to a local push
service, the body decrypted with the browser's keys (RFC 8291), the VAPID signature checked, and privacy."""

from __future__ import annotations

import base64
import json
import logging
import os
import threading
from collections.abc import Iterator
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import http_ece
import psycopg
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from py_vapid import jwt as vapid_jwt
from typer.testing import CliRunner

from gis.cli import app as cli
from gis.db.tokens import create_token
from gis.errors import InvalidParameter
from gis.garbage import vapid
from gis.garbage.push import JST, remind
from gis.garbage.subscriptions import check_endpoint, check_keys, hash_token
from gis.settings import Settings
from tests.conftest import Cluster, make_client

TODAY = date(2026, 12, 2)
TOMORROW = date(2026, 12, 3)
FCM = "https://fcm.googleapis.com/fcm/send/"


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class PushService:
    """A local push service: records every POST; answers 410 under /gone/, 500 under /broken/ unless healed."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.healed = False
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                service.received.append(
                    {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
                )
                status = (
                    410 if "/gone/" in self.path else 500 if "/broken/" in self.path and not service.healed else 201
                )
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def to(self, path: str) -> list[dict]:
        return [r for r in self.received if r["path"] == path]


class Browser:
    """A browser's push subscription: its own P-256 key pair and 16-byte auth secret."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        point = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.keys = {"p256dh": b64url(point), "auth": b64url(self.auth)}

    def subscription(self) -> dict:
        return {"endpoint": self.endpoint, "expirationTime": None, "keys": self.keys}

    def decrypt(self, body: bytes) -> dict:
        return json.loads(http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"))

    def secrets(self) -> list[str]:
        return [self.endpoint, self.keys["p256dh"], self.keys["auth"]]


@pytest.fixture
def push() -> Iterator[PushService]:
    service = PushService()
    yield service
    service.server.shutdown()


@pytest.fixture
def settings(scratch_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("GIS_PUSH_ALLOW_LOOPBACK", "1")
    return Settings(database_url=scratch_url, var_dir=tmp_path)


def _calendar(url: str) -> None:
    """41205-A tomorrow: もえるごみ, ペットボトル, ビン類 moved from 12/1, an extra トレイ day, a cancelled 空き缶."""
    with psycopg.connect(url) as conn:
        conn.execute("DELETE FROM garbage_events WHERE group_id IN ('41205-A', '41205-B')")
        conn.execute("DELETE FROM garbage_exceptions WHERE city_code = '41205'")
        source = conn.execute("SELECT id FROM sources ORDER BY id LIMIT 1").fetchone()[0]
        cans = "空き缶・金属類・ガラス類・陶磁器・複合素材"
        for category, day in [("もえるごみ", TOMORROW), ("ペットボトル", TOMORROW), ("ビン類", date(2026, 12, 1)),
                              (cans, TOMORROW), ("もえるごみ", date(2026, 12, 7))]:  # fmt: skip
            conn.execute("INSERT INTO garbage_events VALUES ('41205-A', %s, %s, 2026)", (category, day))
        for category, day, kind, new_day, reason in [
            ("ビン類", date(2026, 12, 1), "move", TOMORROW, "収集車の点検"),
            ("発泡スチロール製トレイ", TOMORROW, "extra", None, "年末の臨時収集"),
            (cans, TOMORROW, "cancel", None, "施設の停止"),
        ]:
            conn.execute(
                "INSERT INTO garbage_exceptions (city_code, group_id, category, day, kind, new_day, reason, source_id) "
                "VALUES ('41205', '41205-A', %s, %s, %s, %s, %s, %s)",
                (category, day, kind, new_day, reason, source),
            )


def _subscribe(client: TestClient, browser: Browser, group: str = "41205-A", **choices: object) -> dict:
    r = client.post(
        "/garbage/subscriptions", json={"subscription": browser.subscription(), "group_id": group, **choices}
    )
    assert r.status_code == 201, r.text
    assert r.headers["cache-control"] == "no-store"
    return r.json()


def _check_vapid(request: dict, public_key: str, origin: str) -> None:
    scheme, _, params = request["headers"]["authorization"].partition(" ")
    assert scheme == "vapid"
    parts = dict(p.split("=", 1) for p in params.split(","))
    assert parts["k"] == public_key
    claims = vapid_jwt.decode(parts["t"], parts["k"])  # raises InvalidSignature unless signed by the key
    assert claims["aud"] == origin and claims["sub"] == "mailto:webmaster@localhost"
    assert claims["exp"] > datetime.now().timestamp()


def test_a_reminder_is_encrypted_signed_and_sent_once(
    scratch_url: str, tmp_path: Path, settings: Settings, push: PushService, monkeypatch: pytest.MonkeyPatch
) -> None:
    _calendar(scratch_url)
    alice, bob, carol, dave = (Browser(f"{push.origin}/push/{n}") for n in ("alice", "bob", "carol", "dave"))
    gone, broken = Browser(f"{push.origin}/gone/eve"), Browser(f"{push.origin}/broken/frank")
    with make_client(scratch_url, tmp_path) as client:
        key = client.get("/garbage/push/key").json()["public_key"]
        point = base64.urlsafe_b64decode(key + "=")
        assert len(point) == 65 and point[0] == 4
        ids = {
            "alice": _subscribe(client, alice)["id"],
            "bob": _subscribe(client, bob, categories=["ペットボトル"], remind_hour=19)["id"],
            "carol": _subscribe(client, carol, remind_hour=20)["id"],
            "dave": _subscribe(client, dave, group="41205-B")["id"],
            "gone": _subscribe(client, gone)["id"],
            "broken": _subscribe(client, broken, remind_hour=21)["id"],
        }
        sw = client.get("/garbage/sw.js")
        assert sw.headers["content-type"].startswith("text/javascript")
        assert sw.headers["service-worker-allowed"] == "/" and "showNotification" in sw.text

    early = remind(scratch_url, now=datetime(2026, 12, 2, 18, 5, tzinfo=JST), settings=settings)
    assert (early.due, early.sent) == (0, 0) and push.received == []

    at_19 = remind(scratch_url, now=datetime(2026, 12, 2, 19, 5, tzinfo=JST), settings=settings)
    assert (at_19.due, at_19.sent, at_19.gone, at_19.nothing_tomorrow, at_19.failed) == (4, 2, 1, 1, 0)
    assert len(push.received) == 3
    for request in push.received:
        assert request["headers"]["content-encoding"] == "aes128gcm" and int(request["headers"]["ttl"]) > 3600
        _check_vapid(request, key, push.origin)

    [to_alice], [to_bob] = push.to("/push/alice"), push.to("/push/bob")
    message = alice.decrypt(to_alice["body"])
    assert message["title"] == "明日のごみ収集（サンプル）" and message["group"] == "41205-A"
    assert message["day"] == "2026-12-03"
    assert set(message["categories"]) == {"もえるごみ", "ペットボトル", "ビン類", "発泡スチロール製トレイ"}
    body = message["body"]
    assert body.endswith("（伊万里市 A地区（中心部））"), body
    assert (
        "ビン類（12月1日分の振替：収集車の点検）" in body
        and "発泡スチロール製トレイ（臨時収集：年末の臨時収集）" in body
    )
    assert "空き缶" not in body
    only_bottles = bob.decrypt(to_bob["body"])
    assert only_bottles["categories"] == ["ペットボトル"] and only_bottles["body"].startswith("ペットボトル（")
    with pytest.raises(Exception):  # noqa: B017 (each message is readable only with its own browser's keys)
        alice.decrypt(to_bob["body"])

    again = remind(scratch_url, now=datetime(2026, 12, 2, 19, 40, tzinfo=JST), settings=settings)
    assert (again.due, again.sent) == (1, 0) and len(push.received) == 3  # sent today; dave has nothing tomorrow

    dry = remind(scratch_url, now=datetime(2026, 12, 2, 20, 5, tzinfo=JST), dry_run=True, settings=settings)
    assert (dry.due, dry.sent) == (1, 1) and len(push.received) == 3

    failed = remind(scratch_url, now=datetime(2026, 12, 2, 21, 5, tzinfo=JST), settings=settings)
    assert (failed.sent, failed.failed) == (0, 1) and failed.failed_ids == [ids["broken"]]
    push.healed = True  # a rerun within the hour tries again: the failed send gave its day back
    retried = remind(scratch_url, now=datetime(2026, 12, 2, 21, 30, tzinfo=JST), settings=settings)
    assert retried.sent == 1 and len(push.to("/broken/frank")) == 2

    with psycopg.connect(scratch_url) as conn:
        rows = dict(conn.execute("SELECT id, last_sent_on FROM private.push_subscriptions").fetchall())
    assert ids["gone"] not in rows  # the push service said 410: deleted
    assert rows[ids["alice"]] == rows[ids["bob"]] == rows[ids["broken"]] == TODAY
    assert rows[ids["carol"]] is None and rows[ids["dave"]] is None

    monkeypatch.setenv("DATABASE_URL", scratch_url)
    monkeypatch.setenv("GIS_VAR_DIR", str(tmp_path))
    result = CliRunner().invoke(cli, ["garbage", "remind", "--dry-run", "--at", "2026-12-02T20:10"])
    assert result.exit_code == 0, result.output
    assert "due this hour: 1" in result.output and "would send: 1" in result.output
    assert len(push.received) == 5


def test_unsubscribe_upsert_staff_counts_and_privacy(
    cluster: Cluster,
    scratch_url: str,
    tmp_path: Path,
    settings: Settings,
    push: PushService,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    _calendar(scratch_url)
    with psycopg.connect(scratch_url) as conn:
        editor = create_token(conn, "清掃センター", "editor")
        device = create_token(conn, "センサー", "device")
    a, b = Browser(f"{push.origin}/push/a"), Browser(f"{push.origin}/push/b")
    with make_client(scratch_url, tmp_path) as client:
        first = _subscribe(client, a, categories=["もえるごみ", "ビン類"])
        second = _subscribe(client, b, group="41205-B")
        secrets = a.secrets() + b.secrets() + [first["removal_token"], second["removal_token"]]

        # The same endpoint again updates it (a new token; the old one no longer removes it).
        r = client.post(
            "/garbage/subscriptions",
            json={"subscription": a.subscription(), "group_id": "41205-C", "remind_hour": 21},
        )
        assert r.status_code == 200 and r.json()["id"] == first["id"] and r.json()["group_id"] == "41205-C"
        renewed = r.json()["removal_token"]
        secrets.append(renewed)
        with psycopg.connect(scratch_url) as conn:
            row = conn.execute(
                "SELECT count(*), min(group_id), min(remind_hour), min(removal_sha256) "
                "FROM private.push_subscriptions WHERE endpoint = %s",
                (a.endpoint,),
            ).fetchone()
        assert row == (1, "41205-C", 21, hash_token(renewed))

        counts = client.get("/admin/garbage/subscriptions", headers={"Authorization": f"Bearer {editor}"})
        assert counts.status_code == 200, counts.text
        kpi = counts.json()
        groups = {g["group_id"]: g["count"] for g in kpi["groups"]}
        assert kpi["total"] == 2 and kpi["every_category"] == 2 and groups["41205-B"] == groups["41205-C"] == 1
        assert groups["41205-A"] == 0 and kpi["hours"] == {"19": 1, "21": 1}
        assert client.get("/admin/garbage/subscriptions").status_code == 401
        assert (
            client.get("/admin/garbage/subscriptions", headers={"Authorization": f"Bearer {device}"}).status_code == 403
        )

        # Privacy: nothing public shows an endpoint, a key or a token; the public role cannot read the table.
        public = [
            "/", "/?f=json", "/collections", "/collections/garbage_points/items?limit=1000",
            "/collections/garbage_points/download?f=geojson", "/collections/garbage_points/download?f=csv",
            "/map", "/map/garbage", "/api", "/health", "/garbage/push/key", "/tiles/all/10/881/411.mvt",
            "/garbage/groups", "/garbage/groups/41205-C", "/garbage/groups/41205-C/calendar.ics",
        ]  # fmt: skip
        outputs = [client.get(p).content for p in public] + [counts.content]
        for secret in secrets:
            assert not any(secret.encode() in out for out in outputs), secret

        path = f"/garbage/subscriptions/{first['id']}"
        assert client.delete(path).status_code == 401
        wrong = client.delete(path, headers={"Authorization": f"Bearer {first['removal_token']}"})
        missing = client.delete("/garbage/subscriptions/999999", headers={"Authorization": f"Bearer {renewed}"})
        assert wrong.status_code == missing.status_code == 404 and wrong.json() == missing.json()
        assert client.delete(path, headers={"Authorization": f"Bearer {renewed}"}).status_code == 204
        assert client.delete(path, headers={"Authorization": f"Bearer {renewed}"}).status_code == 404
        by_body = client.request(
            "DELETE", f"/garbage/subscriptions/{second['id']}", json={"removal_token": second["removal_token"]}
        )
        assert by_body.status_code == 204
        with psycopg.connect(scratch_url) as conn:
            assert conn.execute("SELECT count(*) FROM private.push_subscriptions").fetchone()[0] == 0

    public_url = scratch_url.replace(
        f"{cluster.emb.user}:{cluster.emb.password}@", f"gis_public:{cluster.emb.public_password}@"
    )
    with psycopg.connect(public_url) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("SELECT endpoint FROM private.push_subscriptions")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert not any(s in logged for s in secrets)


def _body(browser: Browser, **overrides: object) -> dict:
    return {"subscription": browser.subscription(), "group_id": "41205-A", **overrides}


@pytest.mark.parametrize(
    ("change", "status", "named"),
    [
        (lambda b: b["subscription"].update(endpoint="http://fcm.googleapis.com/fcm/send/x"), 400, "https"),
        (lambda b: b["subscription"].update(endpoint="https://evil.example/fcm/send/x"), 400, "push service"),
        (lambda b: b["subscription"].update(endpoint="http://127.0.0.1:9/push/x"), 400, "https"),
        (lambda b: b["subscription"].update(endpoint="https://fcm.googleapis.com:8443/x"), 400, "port"),
        (lambda b: b["subscription"].update(endpoint=FCM + "x" * 3000), 400, "subscription.endpoint"),
        (lambda b: b["subscription"]["keys"].update(p256dh=b64url(b"\x04" + b"1" * 63)), 400, "p256dh"),
        (lambda b: b["subscription"]["keys"].update(p256dh=b64url(b"\x04" + b"1" * 64)), 400, "P-256"),
        (lambda b: b["subscription"]["keys"].update(auth=b64url(b"1" * 15)), 400, "auth"),
        (lambda b: b["subscription"]["keys"].update(auth="not base64!"), 400, "auth"),
        (lambda b: b["subscription"].pop("keys"), 400, "subscription.keys"),
        (lambda b: b.update(group_id="41205-ZZ"), 404, "group_id"),
        (lambda b: b.update(categories=["宇宙ごみ"]), 400, "categories"),
        (lambda b: b.update(remind_hour=7), 400, "remind_hour"),
        (lambda b: b.update(remind_hour="19"), 400, "remind_hour"),
        (lambda b: b.update(name="山田"), 400, "name"),
    ],
)
def test_bad_subscriptions_are_refused_naming_the_problem(
    client: TestClient, change: object, status: int, named: str
) -> None:
    body = _body(Browser(FCM + "abc"))
    change(body)  # type: ignore[operator]
    r = client.post("/garbage/subscriptions", json=body)
    assert r.status_code == status and set(r.json()) == {"code", "description"}, r.text
    assert named in r.json()["description"], r.json()


def test_non_json_bodies_are_a_400(client: TestClient) -> None:
    for content, kind in [(b"endpoint=https://x", "application/x-www-form-urlencoded"), (b"{", "application/json")]:
        r = client.post("/garbage/subscriptions", content=content, headers={"content-type": kind})
        assert r.status_code == 400 and set(r.json()) == {"code", "description"}, r.text
    with psycopg.connect(client.app.state.runtime.db_url) as conn:
        assert conn.execute("SELECT count(*) FROM private.push_subscriptions").fetchone()[0] == 0


def test_endpoint_and_key_checks(tmp_path: Path) -> None:
    strict = Settings(var_dir=tmp_path)
    for ok in [FCM + "abc", "https://updates.push.services.mozilla.com/wpush/v2/x", "https://web.push.apple.com/Q"]:
        assert check_endpoint(ok, strict) == ok
    for bad in [
        "http://127.0.0.1:8000/push",
        "https://fcm.googleapis.com.evil.example/x",
        "https://u:p@fcm.googleapis.com/x",
        "https://fcm.googleapis.com/",
        "https://fcm.googleapis.com/a b",
        "https://fcm.googleapis.com/x#f",
        "https://ｆｃｍ.googleapis.com/x",
    ]:
        with pytest.raises(InvalidParameter):
            check_endpoint(bad, strict)
    assert check_endpoint("http://127.0.0.1:8000/push", Settings(var_dir=tmp_path, push_allow_loopback=True))
    with pytest.raises(InvalidParameter, match="https"):
        check_endpoint("http://localhost:8000/push", Settings(var_dir=tmp_path, push_allow_loopback=True))
    browser = Browser(FCM + "abc")
    padded = browser.keys["p256dh"] + "=" * (-len(browser.keys["p256dh"]) % 4)
    assert check_keys(padded, browser.keys["auth"]) == (browser.keys["p256dh"], browser.keys["auth"])


def test_the_vapid_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path / "var")
    key = vapid.public_key(settings)
    path = tmp_path / "var" / "push" / "vapid_private.pem"
    assert path.stat().st_mode & 0o777 == 0o600 and (path.parent.stat().st_mode & 0o077) == 0
    vapid._loaded.clear()
    assert vapid.public_key(settings) == key  # read back, not made again
    pem = path.read_text()
    assert vapid.public_key(Settings(var_dir=tmp_path / "other", vapid_private_key=pem)) == key
    raw = vapid.load(settings).private_key.private_numbers().private_value.to_bytes(32, "big")
    assert vapid.public_key(Settings(var_dir=tmp_path / "other", vapid_private_key=b64url(raw))) == key
    assert not (tmp_path / "other").exists()
    with pytest.raises(ValueError, match="GIS_VAPID_SUBJECT"):
        Settings(vapid_subject="webmaster")
