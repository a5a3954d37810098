"""Unit tests for the CQL2 → SQL compiler (no database)."""

from __future__ import annotations

import contextlib
import json
import re
from datetime import UTC, date, datetime

import pytest

from gis.errors import InvalidParameter
from gis.ogc.cql import CompiledFilter, compile_filter, queryables_schema

COLUMNS = {
    "youto_name": "text",
    "floors": "int",
    "area": "float",
    "built": "date",
    "updated": "timestamptz",
    "active": "bool",
    "attrs": "json",
    "a": "text",
}
POINT_JSON = '{"type": "Point", "coordinates": [130.01, 33.19]}'


def text(filter_text: str, **kwargs) -> CompiledFilter:
    return checked(compile_filter(filter_text, "cql2-text", COLUMNS, **kwargs), kwargs.get("start", 1))


def cjson(filter_obj: object, **kwargs) -> CompiledFilter:
    raw = json.dumps(filter_obj, ensure_ascii=False)
    return checked(compile_filter(raw, "cql2-json", COLUMNS, **kwargs), kwargs.get("start", 1))


def checked(compiled: CompiledFilter, start: int) -> CompiledFilter:
    """Every placeholder is used and numbered $start..$start+n-1, as asyncpg requires."""
    used = {int(n) for n in re.findall(r"\$(\d+)", compiled.sql)}
    assert used == set(range(start, start + len(compiled.params))), (compiled.sql, compiled.params)
    return compiled


def error(filter_text: str, lang: str = "cql2-text", columns: dict | None = None) -> str:
    with pytest.raises(InvalidParameter) as info:
        compile_filter(filter_text, lang, COLUMNS if columns is None else columns)
    message = info.value.description
    assert "\n" not in message and "Traceback" not in message and "object at 0x" not in message
    return message


# --- the issue's example ------------------------------------------------------------------------------------


def test_issue_example_text_and_json_compile_to_the_same_sql() -> None:
    t = text("youto_name = '商業地域' AND S_INTERSECTS(geom, POINT(130.01 33.19))")
    j = cjson(
        {
            "op": "and",
            "args": [
                {"op": "=", "args": [{"property": "youto_name"}, "商業地域"]},
                {
                    "op": "s_intersects",
                    "args": [{"property": "geom"}, {"type": "Point", "coordinates": [130.01, 33.19]}],
                },
            ],
        }
    )
    expected = (
        '("youto_name" = $1::text AND '
        'ST_Intersects("geom", ST_Transform(ST_SetSRID(ST_GeomFromGeoJSON($2::text), 4326), 6668)))'
    )
    assert t.sql == j.sql == expected
    assert t.params == j.params == ["商業地域", POINT_JSON]
    assert json.loads(t.params[1]) == {"type": "Point", "coordinates": [130.01, 33.19]}


def test_placeholders_start_at_start() -> None:
    result = text("youto_name = '商業地域' AND S_INTERSECTS(geom, POINT(130.01 33.19))", start=3)
    assert "$3::text" in result.sql and "ST_GeomFromGeoJSON($4::text)" in result.sql
    assert "$1" not in result.sql and "$2" not in result.sql


def test_no_transform_when_filter_crs_is_the_column_srid() -> None:
    result = text("S_INTERSECTS(geom, POINT(130.01 33.19))", filter_crs=6668)
    assert result.sql == 'ST_Intersects("geom", ST_SetSRID(ST_GeomFromGeoJSON($1::text), 6668))'
    assert (
        "ST_SetSRID(ST_GeomFromGeoJSON($1::text), 3857), 6670)"
        in text("S_INTERSECTS(geom, POINT(1 2))", filter_crs=3857, srid=6670).sql
    )


def test_geometry_alias_and_custom_geometry_column() -> None:
    assert text("S_INTERSECTS(geometry, POINT(1 2))").sql.startswith('ST_Intersects("geom", ')
    assert text("S_INTERSECTS(shape, POINT(1 2))", geometry="shape").sql.startswith('ST_Intersects("shape", ')


# --- operators -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("op", ["=", "<>", "<", "<=", ">", ">="])
def test_comparisons(op: str) -> None:
    assert text(f"floors {op} 3").sql == f'"floors" {op} $1::bigint'
    assert cjson({"op": op, "args": [{"property": "youto_name"}, "x"]}).sql == f'"youto_name" {op} $1::text'


def test_numeric_literals_follow_the_column_type() -> None:
    assert text("floors = 3").params == [3]
    assert text("floors = 1.5") == CompiledFilter('"floors" = $1::double precision', [1.5])
    assert text("area > 3") == CompiledFilter('"area" > $1::double precision', [3.0])
    assert text("floors = -2").params == [-2]


def test_boolean_and_literal_order() -> None:
    assert text("active = TRUE") == CompiledFilter('"active" = $1::boolean', [True])
    assert cjson({"op": "=", "args": [{"property": "active"}, False]}).params == [False]
    assert text("'x' = youto_name").sql == '$1::text = "youto_name"'
    assert text("INCLUDE").sql == "TRUE" and cjson(True).sql == "TRUE"


def test_and_or_not_with_and_binding_tighter() -> None:
    result = text("youto_name = 'x' OR youto_name = 'y' AND floors > 2")
    assert result.sql == '("youto_name" = $1::text OR ("youto_name" = $2::text AND "floors" > $3::bigint))'
    result = text("NOT (floors = 1 OR floors = 2) AND NOT floors = 3")
    assert result.sql == '(NOT (("floors" = $1::bigint OR "floors" = $2::bigint)) AND NOT ("floors" = $3::bigint))'
    long_chain = text(" AND ".join(["floors = 1"] * 300))
    assert len(long_chain.params) == 300


def test_null_like_between_in() -> None:
    assert text("youto_name IS NULL").sql == '"youto_name" IS NULL'
    assert text("geom IS NOT NULL").sql == '"geom" IS NOT NULL'
    assert text("attrs IS NULL").sql == '"attrs" IS NULL'
    assert cjson({"op": "isNull", "args": [{"property": "floors"}]}).sql == '"floors" IS NULL'
    assert text("youto_name LIKE '商業%'") == CompiledFilter('"youto_name" LIKE $1::text', ["商業%"])
    assert text("youto_name NOT LIKE 'a_b'").sql == '"youto_name" NOT LIKE $1::text'
    assert text("CASEI(youto_name) LIKE CASEI('AB%')").sql == 'lower("youto_name") LIKE lower($1::text)'
    casei = {"op": "like", "args": [{"op": "casei", "args": [{"property": "a"}]}, {"op": "casei", "args": ["X%"]}]}
    assert cjson(casei).sql == 'lower("a") LIKE lower($1::text)'
    assert text("floors BETWEEN 1 AND 3") == CompiledFilter('"floors" BETWEEN $1::bigint AND $2::bigint', [1, 3])
    assert text("area NOT BETWEEN 1 AND 2.5").sql == '"area" NOT BETWEEN $1::double precision AND $2::double precision'
    assert cjson({"op": "between", "args": [{"property": "floors"}, 1, 3]}).params == [1, 3]
    assert text("floors IN (1, 2, 3)").sql == '"floors" IN ($1::bigint, $2::bigint, $3::bigint)'
    assert text("youto_name NOT IN ('a', 'b')").params == ["a", "b"]
    assert cjson({"op": "in", "args": [{"property": "a"}, ["x", "y"]]}).sql == '"a" IN ($1::text, $2::text)'


def test_arithmetic() -> None:
    assert text("floors + 1 > 3").sql == '("floors" + $1::bigint) > $2::bigint'
    assert text("area / 2 < 10").sql == '("area"::double precision / NULLIF($1::bigint, 0)) < $2::double precision'
    assert cjson({"op": ">", "args": [{"op": "*", "args": [{"property": "floors"}, 2]}, 5]}).params == [2, 5]


def test_date_and_timestamp_literals_bind_python_values() -> None:
    assert text("built = DATE('2020-01-31')") == CompiledFilter('"built" = $1::date', [date(2020, 1, 31)])
    result = text("updated >= TIMESTAMP('2020-01-01T09:00:00+09:00')")
    assert result == CompiledFilter('"updated" >= $1::timestamptz', [datetime(2020, 1, 1, tzinfo=UTC)])
    assert text("updated < TIMESTAMP('2020-01-01T00:00:00Z')").params[0].tzinfo is not None
    assert text("updated > DATE('2020-01-01')").params == [datetime(2020, 1, 1, tzinfo=UTC)]
    assert cjson({"op": "=", "args": [{"property": "built"}, {"date": "2020-02-29"}]}).params == [date(2020, 2, 29)]


def test_temporal_predicates() -> None:
    assert text("T_AFTER(built, DATE('2020-01-01'))").sql == '"built" > $1::date'
    assert text("built T_BEFORE DATE('2020-01-01')").sql == '"built" < $1::date'
    assert text("T_EQUALS(built, DATE('2020-01-01'))").sql == '"built" = $1::date'
    assert text("T_INTERSECTS(built, DATE('2020-01-01'))").sql == '"built" = $1::date'
    assert text("T_BEFORE(DATE('2020-01-01'), built)").sql == '"built" > $1::date'
    assert text("T_AFTER(built, updated)").sql == '"built" > "updated"'
    during = text("T_DURING(updated, INTERVAL('2020-01-01T00:00:00Z', '2020-12-31T00:00:00Z'))")
    assert during.sql == '("updated" > $1::timestamptz AND "updated" < $2::timestamptz)'
    assert text("T_INTERSECTS(built, INTERVAL('2020-01-01', '..'))").sql == '("built" >= $1::date)'
    assert text("T_AFTER(built, INTERVAL('2020-01-01', '2020-06-30'))") == CompiledFilter(
        '"built" > $1::date', [date(2020, 6, 30)]
    )
    assert text("T_BEFORE(built, INTERVAL('..', '2020-06-30'))").sql == "FALSE"
    assert text("T_DISJOINT(built, INTERVAL('2020-01-01', '2020-06-30'))").sql == (
        'NOT (("built" >= $1::date AND "built" <= $2::date))'
    )
    assert text("built T_DISJOINT DATE('2020-01-01')").sql == 'NOT ("built" = $1::date)'
    disjoint = {"op": "t_disjoint", "args": [{"property": "built"}, {"interval": ["2020-01-01", ".."]}]}
    assert cjson(disjoint).sql == 'NOT (("built" >= $1::date))'
    assert text("T_CONTAINS(INTERVAL('2020-01-01', '2020-06-30'), built)").sql.startswith('("built" > $1::date')
    interval = {"op": "t_during", "args": [{"property": "updated"}, {"interval": ["2020-01-01T00:00:00Z", ".."]}]}
    assert cjson(interval) == CompiledFilter('("updated" > $1::timestamptz)', [datetime(2020, 1, 1, tzinfo=UTC)])
    assert cjson({"op": "t_after", "args": [{"property": "built"}, {"timestamp": "2020-01-01T00:00:00Z"}]}).sql == (
        '"built" > $1::timestamptz'
    )


@pytest.mark.parametrize(
    ("cql", "function"),
    [
        ("S_INTERSECTS", "ST_Intersects"),
        ("S_WITHIN", "ST_Within"),
        ("S_CONTAINS", "ST_Contains"),
        ("S_DISJOINT", "ST_Disjoint"),
        ("S_EQUALS", "ST_Equals"),
        ("S_TOUCHES", "ST_Touches"),
        ("S_CROSSES", "ST_Crosses"),
        ("S_OVERLAPS", "ST_Overlaps"),
    ],
)
def test_spatial_predicates(cql: str, function: str) -> None:
    literal = "ST_Transform(ST_SetSRID(ST_GeomFromGeoJSON($1::text), 4326), 6668)"
    assert text(f"{cql}(geom, POINT(130 33))").sql == f'{function}("geom", {literal})'
    assert cjson({"op": cql.lower(), "args": [{"property": "geom"}, json.loads(POINT_JSON)]}).sql == (
        f'{function}("geom", {literal})'
    )


@pytest.mark.parametrize(
    ("wkt", "geojson_type"),
    [
        ("POINT(130 33)", "Point"),
        ("LINESTRING(130 33, 130.1 33.1)", "LineString"),
        ("POLYGON((130 33, 130.1 33, 130.1 33.1, 130 33))", "Polygon"),
        ("MULTIPOINT((130 33), (130.1 33.1))", "MultiPoint"),
        ("MULTILINESTRING((130 33, 130.1 33.1), (130 34, 131 34))", "MultiLineString"),
        (
            "MULTIPOLYGON(((130 33, 130.1 33, 130.1 33.1, 130 33)), ((131 33, 131.1 33, 131.1 33.1, 131 33)))",
            "MultiPolygon",
        ),
        ("BBOX(129.9, 33.1, 130.1, 33.3)", "Polygon"),
        ("ENVELOPE(129.9 130.1 33.1 33.3)", "Polygon"),
    ],
)
def test_geometry_literals(wkt: str, geojson_type: str) -> None:
    result = text(f"S_INTERSECTS(geom, {wkt})")
    assert json.loads(result.params[0])["type"] == geojson_type


def test_bbox_orders_and_srid_prefix() -> None:
    ring = [[129.9, 33.1], [130.1, 33.1], [130.1, 33.3], [129.9, 33.3], [129.9, 33.1]]
    assert json.loads(text("S_INTERSECTS(geom, BBOX(129.9, 33.1, 130.1, 33.3))").params[0])["coordinates"] == [ring]
    bbox = cjson({"op": "s_intersects", "args": [{"property": "geom"}, {"bbox": [129.9, 33.1, 130.1, 33.3]}]})
    assert json.loads(bbox.params[0])["coordinates"] == [ring]
    assert text("BBOX(geom, 129.9, 33.1, 130.1, 33.3)").sql.startswith('ST_Intersects("geom", ST_Transform(')
    ewkt = text("S_WITHIN(geom, SRID=6668;POINT(130 33))")
    assert ewkt.sql == 'ST_Within("geom", ST_SetSRID(ST_GeomFromGeoJSON($1::text), 6668))'
    assert "crs" not in json.loads(ewkt.params[0])


def test_quoted_property_names() -> None:
    assert text("\"youto_name\" = 'x'").sql == '"youto_name" = $1::text'
    assert text("a = 'x'").sql == '"a" = $1::text'


# --- injection -----------------------------------------------------------------------------------------------


def test_sql_injection_in_a_string_stays_a_bind_value() -> None:
    result = text("youto_name = 'x'' OR 1=1 --'")
    assert result == CompiledFilter('"youto_name" = $1::text', ["x' OR 1=1 --"])
    result = cjson({"op": "=", "args": [{"property": "youto_name"}, "x' OR 1=1 --"]})
    assert result.params == ["x' OR 1=1 --"] and "OR" not in result.sql


def test_sql_injection_in_a_property_name_is_an_unknown_property() -> None:
    assert "Unknown property 'id; drop table x'" in error('"id; drop table x" = 1')
    raw = json.dumps({"op": "=", "args": [{"property": 'x" = 1 OR "y'}, 1]})
    assert "Unknown property" in error(raw, "cql2-json")


# --- errors --------------------------------------------------------------------------------------------------


def test_syntax_errors_name_the_position() -> None:
    message = error("youto_name = = 'x'")
    assert "Invalid cql2-text filter" in message and "column 14" in message
    assert "unexpected character '☃'" in error("floors = ☃")
    assert "unexpected end" in error("floors = 1 AND")
    assert "ILIKE" in error("youto_name ILIKE 'x'")
    assert "Invalid date '2020-02-30'" in error("built = DATE('2020-02-30')")


def test_unknown_property_lists_the_queryables() -> None:
    message = error("nope = 1")
    assert "Unknown property 'nope'" in message and "youto_name" in message and "geom" in message


@pytest.mark.parametrize(
    ("filter_text", "words"),
    [
        ("floors = 'abc'", ["property 'floors'", "int", "number", "string"]),
        ("youto_name = 3", ["property 'youto_name'", "text", "integer"]),
        ("floors LIKE 'a%'", ["LIKE", "text", "property 'floors'"]),
        ("S_INTERSECTS(youto_name, POINT(1 2))", ["spatial", "geometry", "property 'youto_name'"]),
        ("youto_name = DATE('2020-01-01')", ["property 'youto_name'", "date"]),
        ("floors > TIMESTAMP('2020-01-01T00:00:00Z')", ["property 'floors'", "timestamp"]),
        ("built = '2020-01-01'", ["property 'built'", "DATE("]),
        ("T_AFTER(youto_name, DATE('2020-01-01'))", ["T_AFTER", "date or timestamp", "property 'youto_name'"]),
        ("active = 1", ["property 'active'", "bool"]),
        ("attrs = 'x'", ["property 'attrs'", "json", "IS NULL"]),
        ("geom = 'x'", ["property 'geom'", "geometry", "S_INTERSECTS"]),
        ("floors = youto_name", ["Type mismatch", "int", "text"]),
        ("floors IN (1, 'x')", ["property 'floors'", "string"]),
    ],
)
def test_type_mismatches(filter_text: str, words: list[str]) -> None:
    message = error(filter_text)
    assert message.startswith("Type mismatch")
    for word in words:
        assert word in message


def test_unsupported_operators_and_functions() -> None:
    assert "Unsupported function 'foo'" in error("foo(floors) = 1")
    assert "T_MEETS" in error("T_MEETS(built, DATE('2020-01-01'))")
    assert "Unsupported operator 'xor'" in error('{"op": "xor", "args": []}', "cql2-json")
    assert "A_EQUALS" in error('{"op": "a_equals", "args": [{"property": "floors"}, [1]]}', "cql2-json")
    assert "condition" in error('{"op": "+", "args": [1, 2]}', "cql2-json")
    assert "arithmetic needs numbers" in error("youto_name + 1 > 2")


def test_lang_empty_length_and_depth_limits() -> None:
    assert "Unsupported filter-lang 'cql-text'" in error("floors = 1", "cql-text")
    assert "Empty filter" in error("   ")
    assert "Empty filter" in error("", "cql2-json")
    assert "too long" in error("floors = 1 AND " * 600 + "floors = 1")
    assert "nested too deeply" in error("NOT " * 60 + "floors = 1")
    assert "nested too deeply" in error("floors = " + "1 + " * 60 + "1")
    text("NOT " * 40 + "floors = 1")
    nested: object = {"op": "=", "args": [{"property": "floors"}, 1]}
    for _ in range(60):
        nested = {"op": "not", "args": [nested]}
    assert "nested too deeply" in error(json.dumps(nested), "cql2-json")
    assert "nested too deeply" in error("[" * 3000 + "]" * 3000, "cql2-json")


def test_invalid_json() -> None:
    assert "Invalid cql2-json filter" in error('{"op": "=", "args": [', "cql2-json")
    assert "NaN" in error('{"op": "=", "args": [{"property": "area"}, NaN]}', "cql2-json")
    assert "malformed" in error('{"op": "=", "args": [{"property": "floors"}]}', "cql2-json")
    assert "malformed" in error('{"hello": "world"}', "cql2-json")
    assert "Invalid timestamp 'tomorrow'" in error(
        '{"op": "=", "args": [{"property": "updated"}, {"timestamp": "tomorrow"}]}', "cql2-json"
    )
    bad_point = {"op": "s_within", "args": [{"property": "geom"}, {"type": "Point", "coordinates": "x"}]}
    assert "Invalid geometry" in error(json.dumps(bad_point), "cql2-json")
    bad_bbox = {"op": "s_within", "args": [{"property": "geom"}, {"bbox": [1, 2, "x", 4]}]}
    assert "Invalid bbox" in error(json.dumps(bad_bbox), "cql2-json")


VALID_TEXT = [
    "youto_name = '商業地域' AND S_INTERSECTS(geom, POINT(130.01 33.19))",
    "NOT (floors IN (1, 2) OR area BETWEEN 1.5 AND 2) AND youto_name LIKE 'a%'",
    "T_DURING(updated, INTERVAL('2020-01-01T00:00:00Z', '..')) OR built T_AFTER DATE('2020-01-01')",
    "S_WITHIN(geom, MULTIPOLYGON(((130 33, 130.1 33, 130.1 33.1, 130 33)))) AND floors * 2 >= 4",
]


@pytest.mark.parametrize("source", VALID_TEXT)
def test_only_invalid_parameter_escapes_for_any_prefix(source: str) -> None:
    compile_filter(source, "cql2-text", COLUMNS)
    raw_json = json.dumps({"op": "and", "args": [{"op": "=", "args": [{"property": "floors"}, 1]}, {"bbox": [1, 2]}]})
    for candidate in [source[:i] for i in range(len(source))] + [raw_json[:i] for i in range(len(raw_json))]:
        for lang in ("cql2-text", "cql2-json"):
            with contextlib.suppress(InvalidParameter):
                compile_filter(candidate, lang, COLUMNS)


# --- queryables ----------------------------------------------------------------------------------------------


def test_queryables_schema() -> None:
    schema = queryables_schema(COLUMNS, {"youto_name": "用途地域"}, "MULTIPOLYGON")
    assert schema["$schema"] == "https://json-schema.org/draft/2019-09/schema"
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    props = schema["properties"]
    assert props["geom"]["format"] == "geometry-multipolygon"
    assert props["youto_name"] == {"title": "用途地域", "type": "string"}
    assert props["floors"]["type"] == "integer" and props["area"]["type"] == "number"
    assert props["built"] == {"title": "built", "type": "string", "format": "date"}
    assert props["updated"]["format"] == "date-time" and props["active"]["type"] == "boolean"
    assert queryables_schema({}, {}, "Point")["properties"]["geom"]["format"] == "geometry-point"
    assert queryables_schema({}, {}, "ST_PointZ")["properties"]["geom"]["format"] == "geometry-point"
    assert queryables_schema({}, {}, "GEOMETRY")["properties"]["geom"]["format"] == "geometry-any"
