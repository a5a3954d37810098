"""Output formats besides GeoJSON: CSV with 自治体標準オープンデータセット column names, and HTML pages."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates

from gis.cities import CITIES, PREFECTURE
from gis.errors import InvalidParameter
from gis.ogc.items import ItemsQuery, order_sql, where_sql
from layers.base import Layer, published_sql

templates = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
MEDIA = {"json": "application/geo+json", "geojson": "application/geo+json", "html": "text/html", "csv": "text/csv"}


def negotiate(request: Request, f: str | None, allowed: tuple[str, ...] = ("json", "html", "csv")) -> str:
    """Pick the output format from ?f= or the Accept header; browsers get HTML, clients JSON."""
    if f:
        value = {
            "geojson": "json",
            "application/geo+json": "json",
            "application/json": "json",
            "text/html": "html",
            "text/csv": "csv",
        }.get(f.lower(), f.lower())
        if value not in allowed:
            raise InvalidParameter(f"f: unsupported format '{f}'; use one of {', '.join(allowed)}")
        return value
    accept = request.headers.get("accept", "")
    if "text/html" in accept and "json" not in accept.split("text/html")[0]:
        return "html"
    if "text/csv" in accept and "csv" in allowed and "json" not in accept:
        return "csv"
    return "json"


def csv_columns(layer: Layer) -> list[tuple[str, str]]:
    """(header, SQL expression) pairs: standard names first, then the layer's own public columns."""
    city_name = "CASE t.city_code " + " ".join(f"WHEN '{c.code}' THEN '{c.name}'" for c in CITIES.values()) + " END"
    lg_code = "CASE t.city_code " + " ".join(f"WHEN '{c.code}' THEN '{c.lg_code}'" for c in CITIES.values()) + " END"
    cols = [
        ("全国地方公共団体コード", lg_code),
        ("ID", "t.id::text"),
        ("地方公共団体名", city_name),
        ("都道府県名", f"'{PREFECTURE}'"),
    ]
    cols += [(c.standard_name or c.name, f"{published_sql(c, 't')}::text") for c in layer.output_columns]
    point = 't."geom"' if layer.geom_type == "POINT" else 'ST_PointOnSurface(t."geom")'
    cols += [("緯度", f"round(ST_Y({point})::numeric, 7)::text"), ("経度", f"round(ST_X({point})::numeric, 7)::text")]
    if layer.geom_type != "POINT":
        cols.append(("geometry_wkt", 'ST_AsText(t."geom", 7)'))
    cols += [
        ("サンプル", "CASE WHEN t.sample THEN 'サンプル' ELSE '' END"),
        ("出典", "s.attribution"),
        ("ライセンス", "s.licence"),
    ]
    return cols


def csv_sql(layer: Layer, query: ItemsQuery | None) -> tuple[str, list[Any]]:
    """Rows for CSV output (a page when query is given, else the whole layer)."""
    params: list[Any] = []
    select = ", ".join(expr for _, expr in csv_columns(layer))
    if query is None:
        inner = f"SELECT *, id AS ord FROM {layer.relation()} x"
    else:
        # Filter and page inside a subquery: its column names cannot clash with the joined sources table.
        where = where_sql(query, params)
        params.extend([query.limit, query.offset])
        n = len(params)
        order = order_sql(query)
        inner = (
            f"SELECT *, row_number() OVER (ORDER BY {order}) AS ord FROM {layer.relation()} x WHERE {where} "
            f"ORDER BY {order} LIMIT ${n - 1} OFFSET ${n}"
        )
    return f"SELECT {select} FROM ({inner}) t JOIN sources s ON s.id = t.source_id ORDER BY t.ord", params


def csv_text(layer: Layer, rows: list[Any]) -> str:
    """CSV text with a header row (UTF-8 with BOM so spreadsheet software reads the Japanese)."""
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([h for h, _ in csv_columns(layer)])
    writer.writerows(tuple(r) for r in rows)
    return buf.getvalue()


def render(name: str, request: Request, **context: Any) -> str:
    """Render an HTML template."""
    return templates.get_template(name).render(request=request, **context)
