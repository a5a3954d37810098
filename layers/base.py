"""The layer declaration: one object per layer that the schema, imports, API, tiles and pages all read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import sqlalchemy as sa
from geoalchemy2 import Geometry

from gis.db.tables import metadata

ColType = Literal["text", "int", "float", "date", "bool", "json", "timestamptz"]
GeomType = Literal["MULTIPOLYGON", "MULTILINESTRING", "POINT"]
LookupKind = Literal["zones", "nearest", "within", "parcels", "containing"]

SQL_TYPES: dict[str, Any] = {
    "text": sa.Text,
    "int": sa.Integer,
    "float": sa.Float,
    "date": sa.Date,
    "bool": sa.Boolean,
    "json": sa.dialects.postgresql.JSONB,
    "timestamptz": sa.DateTime(timezone=True),
}
# The JSON Schema of each column type (queryables, the features' schema, the OpenAPI request bodies).
JSON_SCHEMA_TYPES: dict[str, dict[str, Any]] = {
    "text": {"type": "string"},
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "date": {"type": "string", "format": "date"},
    "bool": {"type": "boolean"},
    "json": {},
    "timestamptz": {"type": "string", "format": "date-time"},
}


@dataclass(frozen=True)
class Alias:
    """A source column name, optionally scaled (PLATEAU fractions → percent)."""

    name: str
    scale: float | None = None


@dataclass(frozen=True)
class Col:
    """One attribute column of a layer."""

    name: str
    type: ColType = "text"
    title: str = ""
    public: bool = True
    required: bool = False
    aliases: tuple[str | Alias, ...] = ()
    # "-" and "0001-01-01" mean unknown in PLATEAU; such values load as NULL.
    null_values: tuple[Any, ...] = ()
    # Open-data standard column name (自治体標準オープンデータセット) used in CSV output.
    standard_name: str | None = None
    # A computed column (Layer.computed): an SQL expression over the layer row `t` and the layer's `join`; never
    # stored, never imported, published like any other column.
    sql: str | None = None
    # The value a published GeoJSON feature leaves out, like null (the queryables state it as JSON Schema `default`):
    # a count of 0 or a false flag on most rows of a big layer is bytes a reader learns nothing from.
    default: Any = None

    def source_names(self) -> list[Alias]:
        """Candidate source column names, in order of preference."""
        out = [Alias(self.name)]
        for a in self.aliases:
            out.append(a if isinstance(a, Alias) else Alias(a))
        return out


@dataclass(frozen=True)
class Lookup:
    """How the "what applies here" report reads a layer: one part of its one SQL statement, one section.

    kinds: `zones` every zone in reach of a point (with boundary distances) or touched by a lot (with area shares);
    `nearest` the `count` nearest rows; `within` rows within `radius_m` (plus the answer's uncertainty when
    `add_reach`); `parcels` rows within the uncertainty capped at `radius_m`, with those at the point; `containing`
    the rows whose geometry holds the point (or the lot's centroid).
    """

    kind: LookupKind
    # The report's key for this layer's section; None when only a rule reads the rows (through `role`).
    section: str | None
    # What the report's rules use the rows for (zoning, fire, noise, ...): rules name roles, never layer ids.
    role: str | None = None
    key: str = "zones"  # the member of the section holding the rows
    count: int = 3
    radius_m: float = 0
    add_reach: bool = False
    where: str | None = None  # extra SQL condition on declared columns of alias t
    limit: int | None = None
    columns: tuple[str, ...] | None = None  # only these columns (default: every public one)
    # (name, SQL expression over the selected columns of alias t), computed only for the rows the section keeps
    computed: tuple[tuple[str, str], ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)  # fixed members of the section
    # `nearest` per need: (group, SQL condition on alias t) → the `count` nearest rows of each group, tagged `group`.
    per: tuple[tuple[str, str], ...] = ()
    # Coverage: where the layer holds no rows for the point's city, the section says データ未整備 (never 指定なし)
    # and this text (who to ask); None: the layer is taken to cover both cities.
    no_data: str | None = None


@dataclass(frozen=True)
class Layer:
    """A layer's declaration: table, columns, import mapping, style and metadata."""

    id: str
    title: str
    description: str
    geom_type: GeomType
    columns: tuple[Col, ...]
    # Names of the text column used as a label in pages and lookups.
    label: str | None = None
    # The label is a place name people type into the search box (a station, a school, a park).
    place_names: bool = False
    # Extra cleaning applied to the mapped frame during import (after aliasing).
    clean: Callable[[Any, list[str]], Any] | None = None
    style: dict[str, Any] = field(default_factory=dict)
    min_zoom: int = 0
    max_zoom: int = 22
    # Big layers travel as vector tiles on the map pages.
    big: bool = False
    # Layers whose rows only come from a rule (noise/vibration from zoning).
    derived_from: str | None = None
    time_column: str | None = None
    cache_seconds: int = 300
    # Non-public columns are never stored in the layer table: the importer moves them to this table
    # of the private schema, keyed by (key column = layer row id).
    private_table: str | None = None
    private_key: str | None = None
    # The layer's part in the lookup report (None: not in the report).
    lookup: Lookup | None = None
    # Public columns computed at read time (Col.sql), e.g. a sensor's current state, and the join they read.
    computed: tuple[Col, ...] = ()
    join: str | None = None
    # Answers change with the clock and with tables outside the layer's version (live sensor state): responses,
    # tiles and ETags then also key on a time bucket of cache_seconds, so nothing served is older than that.
    live: bool = False
    # "module:function" run as function(cursor, cities) -> report lines in the writer's transaction after every
    # change of the layer's rows (import, edit, rollback): what hangs off the rows is rebuilt with them.
    after_write: str | None = None
    # Decimals of longitude/latitude in GeoJSON features (CRS84, EPSG:4326/6668); the default 7 is about 1 cm. A
    # layer drawn on imagery knows its vertices to decimetres at best, and RFC 7946 §11.2 suggests 6 (about 10 cm).
    degree_decimals: int = 7
    # The columns a vector tile carries besides city_code and sample (None: every published column). A tile is for
    # drawing and the popup; the full feature is one request away (/collections/{id}/items/{fid}).
    tile_columns: tuple[str, ...] | None = None

    @property
    def mercator_column(self) -> str | None:
        """The stored Web Mercator copy of the geometry its tiles read (big layers only), else None."""
        return "geom_3857" if self.big else None

    @property
    def table(self) -> sa.Table:
        """The SQLAlchemy table (shared metadata, used by migrations)."""
        return metadata.tables[self.id]

    @property
    def public_columns(self) -> list[Col]:
        """Columns safe to publish (items, tiles, CSV, downloads, pages)."""
        return [c for c in self.columns if c.public]

    @property
    def output_columns(self) -> list[Col]:
        """What is published (items, tiles, CSV, downloads, queryables): public stored columns, then computed ones."""
        return [*self.public_columns, *self.computed]

    def relation(self) -> str:
        """The FROM item that reads the layer: its table, or with computed columns a subquery that adds them."""
        if not self.computed:
            return f'"{self.id}"'
        extra = ", ".join(f'{c.sql} AS "{c.name}"' for c in self.computed)
        return f'(SELECT t.*, {extra} FROM "{self.id}" t {self.join or ""})'

    def column(self, name: str) -> Col:
        """The column of that name; KeyError when absent."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def published_sql(c: Col, alias: str = "t") -> str:
    """How a column's value is published: times as UTC ISO 8601 text with +00:00 (whatever the session's zone)."""
    ref = f'{alias}."{c.name}"'
    if c.type == "timestamptz":
        return f"""to_char({ref} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"')"""
    return ref


def define_table(layer: Layer) -> sa.Table:
    """Build the layer's table on the shared metadata (idempotent)."""
    if layer.id in metadata.tables:
        return metadata.tables[layer.id]
    cols: list[sa.Column] = [
        sa.Column("id", sa.BigInteger, sa.Identity(always=False), primary_key=True),
        sa.Column("city_code", sa.String(5), nullable=False, index=True),
        sa.Column("source_id", sa.Integer, sa.ForeignKey("sources.id"), nullable=False),
        sa.Column("sample", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("feature_key", sa.Text, nullable=True),
    ]
    for c in layer.public_columns:
        cols.append(sa.Column(c.name, SQL_TYPES[c.type], nullable=not c.required, comment=c.title or None))
    cols.append(
        sa.Column(
            "geom",
            Geometry(layer.geom_type, srid=6668, spatial_index=False),
            nullable=False,
        )
    )
    # Metric work (distances, areas, 80 m buffers) happens in EPSG:6670; keeping the projected geometry saves
    # re-projecting every candidate on every lookup. PostgreSQL keeps it in step with geom.
    cols.append(
        sa.Column(
            "geom_m",
            Geometry(layer.geom_type, srid=6670, spatial_index=False),
            sa.Computed("ST_Transform(geom, 6670)", persisted=True),
        )
    )
    if layer.mercator_column:
        # Tiles of the big layers are cut in Web Mercator: storing the projected geometry spares every tile request
        # the projection of every vertex it draws (a quarter of a tile's database time, bench/results-speed.md).
        cols.append(
            sa.Column(
                layer.mercator_column,
                Geometry(layer.geom_type, srid=3857, spatial_index=False),
                sa.Computed("ST_Transform(geom, 3857)", persisted=True),
            )
        )
    return sa.Table(
        layer.id,
        metadata,
        *cols,
        sa.Index(f"ix_{layer.id}_geom", "geom", postgresql_using="gist"),
        comment=layer.title,
    )
