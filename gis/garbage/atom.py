"""Current notices as an Atom 1.0 feed (RFC 4287), built with the standard library's ElementTree."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any

from gis.cities import CITIES

ATOM = "http://www.w3.org/2005/Atom"
ET.register_namespace("", ATOM)
# Entry ids stay the same for a notice whatever feed (city, group) carries it.
NOTICE_NS = uuid.uuid5(uuid.NAMESPACE_URL, "urn:imari-takeo-gis:garbage-notice")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    if text is not None:
        el.text = text
    return el


def _title(body: dict[str, Any]) -> str:
    city = CITIES.get(body["city"] or "")
    where = city.name if city else "伊万里市・武雄市"
    group = f"（{body['group']}）" if body["group"] else ""
    return f"ごみ収集のお知らせ {where}{group}"


def build(body: dict[str, Any], at: datetime, self_url: str, page_url: str) -> bytes:
    """The feed: id, title, updated, links, author, then one entry per notice (times in JST, +09:00)."""
    feed = ET.Element(f"{{{ATOM}}}feed")
    _sub(feed, "id", self_url)
    _sub(feed, "title", _title(body))
    notices = body["notices"]
    updated = max((n["published_at"] for n in notices), default=at.isoformat(timespec="seconds"))
    _sub(feed, "updated", updated)
    _sub(feed, "link", rel="self", href=self_url, type="application/atom+xml")
    _sub(feed, "link", rel="alternate", href=page_url, type="application/json")
    author = _sub(feed, "author")
    publishers = dict.fromkeys(s["publisher"] for s in body["sources"] if s.get("publisher"))
    _sub(author, "name", "・".join(publishers) or "伊万里市・武雄市")
    rights = "、".join(dict.fromkeys(s["attribution"] for s in body["sources"] if s.get("attribution")))
    if rights:
        _sub(feed, "rights", rights + ("（サンプルデータ）" if body["sample"] else ""))
    _sub(feed, "generator", "伊万里市・武雄市 地図データサービス")
    for n in notices:
        entry = _sub(feed, "entry")
        _sub(entry, "id", f"urn:uuid:{uuid.uuid5(NOTICE_NS, str(n['id']))}")
        _sub(entry, "title", n["title"])
        _sub(entry, "updated", n["published_at"])
        _sub(entry, "published", n["published_at"])
        _sub(entry, "content", n["body"], type="text")
        _sub(
            entry,
            "category",
            term=n["city_code"],
            label=CITIES[n["city_code"]].name if n["city_code"] in CITIES else n["city_code"],
        )
        if n["group_id"]:
            _sub(entry, "category", term=f"group:{n['group_id']}")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
