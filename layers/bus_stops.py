"""Bus stops (バス停) of the GTFS-JP feed inside 伊万里市 and 武雄市: boarding points and their parent stations.

Rows come from gis/transit (the GTFS import), never typed in: `routes` and `agencies` name what calls there (a
station: at its boarding points). The report lists the nearest stations (and boarding points without one) with
their next departures today in JST, from the SQL function `transit_departures` (migration 0007), which reads the
timetable tables of gis/transit.
"""

from layers.base import Col, Layer, Lookup, define_table

# "Now" for the next departures is the request's time; the function works out the service days in JST.
DEPARTURES_SQL = (
    "(SELECT coalesce(json_agg(json_build_object('time_jst', d.time_jst, 'departure', d.departure_iso, "
    "'route', d.route, 'headsign', d.headsign, 'agency', d.agency) ORDER BY d.departs_at, d.trip_id), '[]'::json) "
    "FROM transit_departures(t.stop_id, now(), {n}) d)"
)
# A timetable whose last service day has passed answers nothing rather than something wrong: say so.
EXPIRED_SQL = (
    "(SELECT '時刻表の有効期限（' || to_char(s.valid_to, 'YYYY-MM-DD') || '）を過ぎています。"
    "最新の時刻は事業者に確認してください。' "
    "FROM transit_stops s WHERE s.stop_id = t.stop_id AND s.valid_to < (now() AT TIME ZONE 'Asia/Tokyo')::date)"
)
NOT_IN_FEED = "西肥バス・JR九州バス・いまりんバス等の市のコミュニティバスはこのデータに含まれていません。"

LAYER = Layer(
    id="bus_stops",
    title="バス停",
    description=(
        "路線バスの停留所（のりば＝標柱と、それをまとめる停留所）。佐賀県 GTFS-JP から伊万里市・武雄市内のものを収録。"
        + NOT_IN_FEED
    ),
    geom_type="POINT",
    label="name",
    place_names=True,
    columns=(
        Col("stop_id", title="停留所・標柱ID", required=True),
        Col("name", title="名称", required=True, aliases=("stop_name", "名称"), standard_name="名称"),
        Col("kana", title="よみがな", aliases=("stop_name_kana",)),
        Col("name_en", title="英語名", aliases=("stop_name_en",)),
        Col("location_type", "int", title="種別（0 のりば・1 停留所）"),
        Col("parent_station", title="親停留所ID"),
        Col("routes", title="路線"),
        Col("agencies", title="事業者"),
        Col("wheelchair_boarding", "int", title="車椅子での乗車（0 不明・1 可・2 不可）"),
    ),
    style={"color": "#0868ac", "radius": 4},
    min_zoom=11,
    cache_seconds=3600,
    lookup=Lookup(
        "nearest",
        "bus_stops",
        key="nearest",
        count=3,
        # A station stands for its boarding points (its departures are theirs); a point without one stands alone.
        where="t.parent_station IS NULL",
        columns=("id", "city_code", "stop_id", "name", "kana", "location_type", "routes", "agencies"),
        computed=(("departures", DEPARTURES_SQL.format(n=3)), ("timetable_note", EXPIRED_SQL)),
        extra={"times": "日本時間（JST）", "note": NOT_IN_FEED},
    ),
)
define_table(LAYER)
