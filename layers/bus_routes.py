"""Bus routes (バス路線) of the GTFS-JP feed that serve 伊万里市 or 武雄市, drawn from the feed's shapes.

One row per route: the distinct shapes of its trips (or, for trips without one, the line through their stops), as
one MULTILINESTRING. A route runs beyond the cities (to 唐津, 博多, 佐賀...): it is kept whole and belongs to the city
where most of its stops in the two cities are. `color` is the feed's route_color, or an assigned one where the feed
gives none (then route_color is empty).
"""

from layers.base import Col, Layer, define_table

LAYER = Layer(
    id="bus_routes",
    title="バス路線",
    description=(
        "伊万里市・武雄市の停留所を通る路線バスの経路（佐賀県 GTFS-JP の shapes）。市外の区間も含む。"
        "西肥バス・JR九州バス・いまりんバス等の市のコミュニティバスはこのデータに含まれていません。"
    ),
    geom_type="MULTILINESTRING",
    label="name",
    columns=(
        Col("route_id", title="路線ID", required=True),
        Col("name", title="路線名", required=True, standard_name="名称"),
        Col("short_name", title="路線略称（系統番号）", aliases=("route_short_name",)),
        Col("long_name", title="路線名（正式）", aliases=("route_long_name",)),
        Col("agency", title="事業者", aliases=("agency_name",)),
        Col("route_color", title="路線色（GTFS）"),
        Col("color", title="表示色"),
        Col("stops_in_city", "int", title="市内の停留所数"),
    ),
    style={"color": "#238b45", "weight": 3},
    min_zoom=8,
    cache_seconds=3600,
)
define_table(LAYER)
