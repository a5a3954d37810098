"""The address commands for real: `gis geocode`, `gis geocode --file`, `gis import-addresses`, `gis lookup`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from gis.settings import REPO_ROOT
from tests.conftest import make_client

FIXTURES = REPO_ROOT / "tests" / "data" / "addresses"


def gis(url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "gis", *args], env=env, capture_output=True, text=True, cwd=REPO_ROOT, timeout=180
    )


def test_geocode_json(db_url: str) -> None:
    r = gis(db_url, "geocode", "佐賀県武雄市武雄町武雄5680", "--json")
    assert r.returncode == 0, r.stderr
    g = json.loads(r.stdout)
    assert (g["city"], g["town"], g["rest"]) == ("武雄市", "武雄町大字武雄", "5680")
    assert g["match_level"] == "machiaza" and g["coordinates_level"] == "machiaza" and g["uncertainty_m"] > 100
    bad = gis(db_url, "geocode", "   ")
    assert bad.returncode == 2 and bad.stderr.startswith("error:")


def test_geocode_file_prints_json_lines_and_throughput(db_url: str, tmp_path: Path) -> None:
    lines = ["伊万里市立花町1355番地1", "武雄市武雄町大字昭和1-1", "", "東京都千代田区千代田1-1"] * 50
    f = tmp_path / "in.txt"
    f.write_text("\n".join(lines), encoding="utf-8")
    r = gis(db_url, "geocode", "--file", str(f))
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(rows) == len(lines)
    assert rows[0]["town"] == "立花町" and rows[1]["town"] == "武雄町大字昭和" and rows[3]["outside_service_area"]
    assert "addresses/s" in r.stderr


def test_import_addresses_gives_parcel_matches(scratch_url: str, tmp_path: Path) -> None:
    with make_client(scratch_url, tmp_path) as client:
        assert client.get("/geocode", params={"q": "伊万里市山代町楠久360-1"}).json()["match_level"] == "machiaza"
        r = gis(
            scratch_url,
            "import-addresses",
            str(FIXTURES / "mt_parcel_city412058_sample.csv"),
            "--pos",
            str(FIXTURES / "mt_parcel_pos_city412058_sample.csv"),
        )
        assert r.returncode == 0, r.stderr
        assert "address_points:" in r.stdout
        deadline = time.monotonic() + 5
        while True:  # the new version arrives by NOTIFY; the geocoder is rebuilt on the next request
            g = client.get("/geocode", params={"q": "伊万里市山代町楠久360-1"}).json()
            if g["match_level"] == "parcel" or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert g["match_level"] == "parcel" and g["coordinates_level"] == "parcel" and g["uncertainty_m"] <= 10
        branch = client.get("/geocode", params={"q": "伊万里市山代町楠久360番地ロ"}).json()
        assert branch["match_level"] == "machiaza"
        report = client.get("/lookup", params={"address": "伊万里市山代町楠久360-1"}).json()
        assert report["precision"]["single_answer_possible"]
    bad = gis(scratch_url, "import-addresses", str(FIXTURES / "bad_unknown_layout.csv"))
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


def test_lookup_command(db_url: str) -> None:
    r = gis(db_url, "lookup", "--lat", "33.1955", "--lon", "130.0195")
    assert r.returncode == 0, r.stderr
    body = json.loads(r.stdout)
    assert body["zoning"]["answer"]["youto_name"] == "商業地域"
