"""Cutting a checked feed to 伊万里市 and 武雄市: the stops inside the cities (stations kept with their boarding
points), the routes calling there and those routes' whole trips, with calendars, expanded service days and shapes.

The result holds plain DataFrames in the shape of the transit tables (gis/transit/tables.py) and the rows of the
bus_stops and bus_routes layers; nothing here touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import geopandas as gpd
import gtfs_kit as gk
import pandas as pd
import shapely
from shapely.geometry import LineString, MultiLineString

from gis.errors import ImportFailed
from gis.transit.feed import Feed, parse_date, seconds

# Route colours where the feed gives none (ColorBrewer Dark2 and Set1, readable on the pale base map).
PALETTE = (
    "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d",
    "#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#a65628", "#f781bf",
)  # fmt: skip
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
NAME_SEP = "、"  # route names hold 「・」 (武雄・三間坂線)


@dataclass
class Cut:
    """The feed cut to the cities: timetable tables and layer rows."""

    agencies: pd.DataFrame
    routes: pd.DataFrame
    stops: pd.DataFrame
    trips: pd.DataFrame
    stop_times: pd.DataFrame
    calendar: pd.DataFrame
    calendar_dates: pd.DataFrame
    service_days: pd.DataFrame
    layer_stops: gpd.GeoDataFrame
    layer_routes: gpd.GeoDataFrame
    report: list[str] = field(default_factory=list)

    @property
    def first_day(self) -> date | None:
        """The first day any kept service runs."""
        return None if self.service_days.empty else self.service_days["day"].min()

    @property
    def last_day(self) -> date | None:
        """The last day any kept service runs."""
        return None if self.service_days.empty else self.service_days["day"].max()


def _blank(v: object) -> str | None:
    if v is None or v is pd.NA or (isinstance(v, float) and pd.isna(v)):
        return None
    text = str(v).strip()
    return text or None


def _color(v: object) -> str | None:
    text = _blank(v)
    if text is None:
        return None
    text = text.lstrip("#")
    return f"#{text.lower()}" if len(text) == 6 and all(c in "0123456789abcdefABCDEF" for c in text) else None


def _in_cities(stops: pd.DataFrame, areas: gpd.GeoDataFrame) -> pd.Series:
    """city_code per stop inside one of the areas (boarding points and stations), NA elsewhere."""
    placed = stops[stops["location_type"].fillna(0).isin([0, 1])]
    # GTFS is WGS84; the areas are JGD2011 (EPSG:6668): the same numbers within a metre here.
    points = gpd.GeoDataFrame(
        placed[["stop_id"]], geometry=gpd.points_from_xy(placed["stop_lon"], placed["stop_lat"]), crs=6668
    )
    joined = gpd.sjoin(points, areas[["city_code", "geometry"]].set_crs(6668, allow_override=True), predicate="within")
    codes = joined.drop_duplicates("stop_id").set_index("stop_id")["city_code"]
    return stops["stop_id"].map(codes)


def _kept_stops(stops: pd.DataFrame, areas: gpd.GeoDataFrame) -> pd.DataFrame:
    """The stops inside the cities, plus the station of each kept boarding point and the boarding points of each
    kept station (in the city of their relative)."""
    stops = stops.copy()
    if "parent_station" not in stops:
        stops["parent_station"] = pd.NA
    if "location_type" not in stops:
        stops["location_type"] = 0
    stops["city_code"] = _in_cities(stops, areas)
    inside = stops[stops["city_code"].notna()]
    parent_city = inside.dropna(subset=["parent_station"]).drop_duplicates("parent_station")
    parent_city = parent_city.set_index("parent_station")["city_code"]
    own_city = inside[inside["location_type"].fillna(0) == 1].set_index("stop_id")["city_code"]
    stops["city_code"] = (
        stops["city_code"].fillna(stops["stop_id"].map(parent_city)).fillna(stops["parent_station"].map(own_city))
    )
    return stops[stops["city_code"].notna() & stops["location_type"].fillna(0).isin([0, 1])]


def _service_days(g: gk.Feed, services: set[str]) -> pd.DataFrame:
    """(day, service_id) for every day each service runs: calendar with its weekdays, then calendar_dates on top."""
    rows = [(d, s) for d in gk.get_dates(g) for s in gk.get_active_services(g, d) if s in services]
    out = pd.DataFrame(rows, columns=["day", "service_id"])
    out["day"] = [parse_date(d, "service day") for d in out["day"]]
    return out.drop_duplicates().sort_values(["day", "service_id"]).reset_index(drop=True)


def _route_lines(g: gk.Feed, stops: pd.DataFrame) -> dict[str, MultiLineString]:
    """Each route as the distinct shapes of its trips; a trip without a shape adds the line through its stops."""
    shapes = gk.build_geometry_by_shape(g) if g.shapes is not None else {}
    trips = g.trips.copy()
    if "shape_id" not in trips:
        trips["shape_id"] = pd.NA
    where = stops.set_index("stop_id")[["stop_lon", "stop_lat"]]
    unshaped = trips[~trips["shape_id"].isin(set(shapes))]["trip_id"]
    patterns: dict[str, set[tuple]] = {}
    if len(unshaped):
        st = g.stop_times[g.stop_times["trip_id"].isin(set(unshaped))].sort_values(["trip_id", "stop_sequence"])
        route_of = trips.set_index("trip_id")["route_id"]
        for trip_id, seq in st.groupby("trip_id")["stop_id"]:
            patterns.setdefault(route_of[trip_id], set()).add(tuple(seq))
    out: dict[str, MultiLineString] = {}
    for route_id, shape_ids in trips.groupby("route_id")["shape_id"]:
        lines = [shapes[s] for s in sorted(set(shape_ids.dropna())) if s in shapes]
        for pattern in sorted(patterns.get(route_id, ())):
            coords = [tuple(where.loc[s]) for s in pattern]
            coords = [c for i, c in enumerate(coords) if i == 0 or c != coords[i - 1]]
            if len(coords) >= 2:
                lines.append(LineString(coords))
        lines = [ln for ln in lines if ln.length > 0]
        if lines:
            out[route_id] = MultiLineString(lines)
    return out


def _names_per_stop(
    stop_times: pd.DataFrame, trips: pd.DataFrame, routes: pd.DataFrame, stops: pd.DataFrame
) -> pd.DataFrame:
    """Route and agency names calling at each stop; a station gets its boarding points' names."""
    calls = stop_times[["stop_id", "trip_id"]].drop_duplicates().merge(trips[["trip_id", "route_id"]])
    calls = calls.merge(routes[["route_id", "name", "agency_name"]])[["stop_id", "name", "agency_name"]]
    parents = stops.dropna(subset=["parent_station"]).set_index("stop_id")["parent_station"]
    up = calls.assign(stop_id=calls["stop_id"].map(parents)).dropna(subset=["stop_id"])
    calls = pd.concat([calls, up]).drop_duplicates()

    def join(values: pd.Series) -> str:
        return NAME_SEP.join(sorted(set(values.dropna())))

    return calls.groupby("stop_id").agg(routes=("name", join), agencies=("agency_name", join))


def cut_feed(feed: Feed, areas: gpd.GeoDataFrame) -> Cut:
    """The feed cut to the areas (city_code, geometry in EPSG:6668)."""
    g = feed.gtfs
    report: list[str] = []
    kept = _kept_stops(g.stops, areas)
    if kept.empty:
        raise ImportFailed("no stop of the feed lies in 伊万里市 (41205) or 武雄市 (41206)")
    calling = g.stop_times[g.stop_times["stop_id"].isin(set(kept["stop_id"]))]
    route_ids = sorted(set(g.trips[g.trips["trip_id"].isin(set(calling["trip_id"]))]["route_id"]))
    if not route_ids:
        raise ImportFailed("no trip of the feed calls at a stop in 伊万里市 or 武雄市")
    sub = gk.restrict_to_routes(g, route_ids)
    report.append(
        f"市内の停留所 {len(kept):,}（のりば {int((kept['location_type'].fillna(0) == 0).sum()):,}）、"
        f"路線 {len(route_ids)}、便 {len(sub.trips):,}、停車時刻 {len(sub.stop_times):,}"
    )

    agencies = sub.agency.copy()
    if "agency_id" not in agencies or agencies["agency_id"].isna().all():
        agencies["agency_id"] = agencies["agency_name"]
    routes = sub.routes.copy()
    if "agency_id" not in routes or routes["agency_id"].isna().any():
        if len(agencies) != 1:
            raise ImportFailed("routes.txt: agency_id is empty but agency.txt names several agencies")
        routes["agency_id"] = routes.get("agency_id", pd.Series(pd.NA, index=routes.index)).fillna(
            agencies["agency_id"].iloc[0]
        )
    for col in ("route_short_name", "route_long_name", "route_color", "route_text_color", "route_type"):
        if col not in routes:
            routes[col] = pd.NA
    routes = routes.sort_values("route_id").reset_index(drop=True)
    routes["name"] = [
        _blank(lg) or _blank(sh) or rid
        for lg, sh, rid in zip(routes["route_long_name"], routes["route_short_name"], routes["route_id"], strict=True)
    ]
    routes["route_color"] = routes["route_color"].map(_color)
    routes["color"] = [c or PALETTE[i % len(PALETTE)] for i, c in enumerate(routes["route_color"])]
    if routes["route_color"].isna().any():
        report.append(f"route_color のない路線 {int(routes['route_color'].isna().sum())} に表示色を割り当て")
    routes["agency_name"] = routes["agency_id"].map(agencies.set_index("agency_id")["agency_name"])

    trips = sub.trips.copy()
    for col in ("trip_headsign", "direction_id", "shape_id", "wheelchair_accessible"):
        if col not in trips:
            trips[col] = pd.NA
    st = sub.stop_times.copy()
    arrival, departure = seconds(st["arrival_time"], "arrival_time"), seconds(st["departure_time"], "departure_time")
    st["arrival"] = arrival.fillna(departure)
    st["departure"] = departure.fillna(arrival)
    pickup = st["pickup_type"] if "pickup_type" in st else pd.Series(0, index=st.index)
    st["pickup"] = (pickup.fillna(0) != 1) & st["departure"].notna()
    untimed = int(st["departure"].isna().sum())
    if untimed:
        report.append(f"時刻のない停車 {untimed:,} 件（通過扱い: 発車時刻として表示しない）")
    st["service_id"] = st["trip_id"].map(trips.set_index("trip_id")["service_id"])
    st["headsign"] = st["stop_headsign"].replace("", pd.NA) if "stop_headsign" in st else pd.NA

    services = set(trips["service_id"])
    days = _service_days(sub, services)
    never = sorted(services - set(days["service_id"]))
    if never:
        report.append(f"運行日のない service_id {len(never)} 件: {', '.join(never[:5])}")
    calendar = sub.calendar.copy() if sub.calendar is not None else pd.DataFrame(columns=["service_id", *WEEKDAYS])
    calendar["days"] = calendar[list(WEEKDAYS)].astype(str).agg("".join, axis=1) if len(calendar) else []
    calendar["start_date"] = [parse_date(d, "calendar.txt start_date") for d in calendar.get("start_date", [])]
    calendar["end_date"] = [parse_date(d, "calendar.txt end_date") for d in calendar.get("end_date", [])]
    cdates = sub.calendar_dates.copy() if sub.calendar_dates is not None else pd.DataFrame(columns=["date"])
    cdates["day"] = [parse_date(d, "calendar_dates.txt date") for d in cdates["date"]]

    # Every stop the kept trips call at (names for termini), and the kept stops themselves.
    stops = pd.concat([sub.stops, kept[~kept["stop_id"].isin(set(sub.stops["stop_id"]))]], ignore_index=True)
    stops = stops.drop(columns=["city_code"], errors="ignore").merge(kept[["stop_id", "city_code"]], how="left")
    for col in ("parent_station", "location_type", "wheelchair_boarding"):
        if col not in stops:
            stops[col] = pd.NA
    stops["kana"] = stops["stop_name"].map(feed.kana)
    stops["name_en"] = stops["stop_name"].map(feed.english)
    stops["location_type"] = stops["location_type"].fillna(0)
    _validity(stops, st, days, feed.end_date)
    names = _names_per_stop(st, trips, routes, stops)

    layer_stops = _layer_stops(stops[stops["city_code"].notna()], names)
    layer_routes = _layer_routes(sub, routes, stops, st, trips, report)
    return Cut(agencies, routes, stops, trips, st, calendar, cdates, days, layer_stops, layer_routes, report)


def _validity(stops: pd.DataFrame, st: pd.DataFrame, days: pd.DataFrame, end: date | None) -> None:
    """valid_from/valid_to per stop: the first and last day a service calling there runs (capped at the feed's end)."""
    span = days.groupby("service_id")["day"].agg(["min", "max"])
    calls = st[["stop_id", "service_id"]].drop_duplicates().join(span, on="service_id")
    parents = stops.dropna(subset=["parent_station"]).set_index("stop_id")["parent_station"]
    calls = pd.concat([calls, calls.assign(stop_id=calls["stop_id"].map(parents)).dropna(subset=["stop_id"])])
    per_stop = calls.groupby("stop_id").agg(valid_from=("min", "min"), valid_to=("max", "max"))
    stops["valid_from"] = stops["stop_id"].map(per_stop["valid_from"])
    stops["valid_to"] = stops["stop_id"].map(per_stop["valid_to"])
    if end is not None:
        stops["valid_to"] = stops["valid_to"].map(lambda d: min(d, end) if isinstance(d, date) else d)


def _layer_stops(stops: pd.DataFrame, names: pd.DataFrame) -> gpd.GeoDataFrame:
    out = pd.DataFrame(
        {
            "stop_id": stops["stop_id"].to_numpy(),
            "name": stops["stop_name"].to_numpy(),
            "kana": stops["kana"].to_numpy(),
            "name_en": stops["name_en"].to_numpy(),
            "location_type": stops["location_type"].to_numpy(),
            "parent_station": stops["parent_station"].to_numpy(),
            "routes": stops["stop_id"].map(names["routes"]).to_numpy(),
            "agencies": stops["stop_id"].map(names["agencies"]).to_numpy(),
            "wheelchair_boarding": stops["wheelchair_boarding"].to_numpy(),
            "city_code": stops["city_code"].to_numpy(),
            "feature_key": stops["stop_id"].to_numpy(),
        }
    )
    geometry = gpd.points_from_xy(stops["stop_lon"], stops["stop_lat"])
    return gpd.GeoDataFrame(out, geometry=geometry, crs=6668).sort_values("stop_id").reset_index(drop=True)


def _layer_routes(
    g: gk.Feed, routes: pd.DataFrame, stops: pd.DataFrame, st: pd.DataFrame, trips: pd.DataFrame, report: list[str]
) -> gpd.GeoDataFrame:
    """One row per route with its lines, in the city where most of its stops in the two cities are."""
    lines = _route_lines(g, stops)
    calls = st[["stop_id", "trip_id"]].drop_duplicates().merge(trips[["trip_id", "route_id"]])
    calls = calls.merge(stops[["stop_id", "city_code"]]).dropna(subset=["city_code"])
    per_city = calls.groupby(["route_id", "city_code"])["stop_id"].nunique().reset_index(name="n")
    per_city = per_city.sort_values(["route_id", "n", "city_code"], ascending=[True, False, True])
    home = per_city.drop_duplicates("route_id").set_index("route_id")
    rows = []
    for r in routes.itertuples():
        if r.route_id not in lines:
            report.append(f"路線 {r.route_id}: 形状も停留所の並びもないため地図に描けない")
            continue
        rows.append(
            {
                "route_id": r.route_id,
                "name": r.name,
                "short_name": _blank(r.route_short_name),
                "long_name": _blank(r.route_long_name),
                "agency": r.agency_name,
                "route_color": r.route_color,
                "color": r.color,
                "stops_in_city": int(home.loc[r.route_id, "n"]),
                "city_code": home.loc[r.route_id, "city_code"],
                "feature_key": r.route_id,
                "geometry": shapely.force_2d(lines[r.route_id]),
            }
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=6668)
