"""The transit queries: next departures from a stop (one statement over the indexes, through the SQL function
`transit_departures` of migration 0007), nearby stops, and the stop names for the geocoder.

`transit_departures(stop, at, limit)` is a single-SELECT LANGUAGE sql function, so PostgreSQL inlines it into the
caller: EXPLAIN of these statements shows the index scans (transit_service_days' primary key and the partial index
ix_transit_stop_times_departures on stop, service and departure).
"""

from __future__ import annotations

# One departure as published (the report's section uses the same members, see layers/bus_stops.py).
DEPARTURE_JSON = (
    "json_build_object('time_jst', d.time_jst, 'departure', d.departure_iso, 'service_day', d.service_day, "
    "'route', d.route, 'route_id', d.route_id, 'color', d.color, 'headsign', d.headsign, 'trip_id', d.trip_id, "
    "'stop_id', d.stop_id, 'agency', d.agency, 'wheelchair_accessible', d.wheelchair_accessible)"
)

# $1 stop_id, $2 the moment (timestamptz), $3 how many → one JSON text: the stop (NULL when unknown or outside the
# two cities), its boarding points, the feed (validity, source) and the departures.
DEPARTURES_SQL = f"""
SELECT json_build_object(
  'stop', (SELECT json_build_object('stop_id', s.stop_id, 'name', s.name, 'kana', s.kana, 'name_en', s.name_en,
                                    'location_type', s.location_type, 'parent_station', s.parent_station,
                                    'lat', s.lat, 'lon', s.lon, 'city_code', s.city_code,
                                    'valid_from', s.valid_from, 'valid_to', s.valid_to)
           FROM transit_stops s WHERE s.stop_id = $1 AND s.city_code IS NOT NULL),
  'children', (SELECT coalesce(json_agg(c.stop_id ORDER BY c.stop_id), '[]'::json)
               FROM transit_stops c WHERE c.parent_station = $1),
  'feed', (SELECT json_build_object('version', f.version, 'start_date', f.start_date, 'end_date', f.end_date,
                                    'first_service_day', f.first_service_day, 'last_service_day', f.last_service_day,
                                    'source_id', f.source_id)
           FROM transit_feeds f ORDER BY f.id DESC LIMIT 1),
  'departures', (SELECT coalesce(json_agg({DEPARTURE_JSON} ORDER BY d.departs_at, d.trip_id), '[]'::json)
                 FROM transit_departures($1, $2, $3) d)
)::text
"""

# The raw statement the endpoint's answer rests on (bench/transit.py compares the two).
RAW_DEPARTURES_SQL = "SELECT * FROM transit_departures($1, $2, $3)"

# $1 lon, $2 lat, $3 how many → the nearest stations and boarding points without one, with distance (metres).
NEAR_SQL = """
SELECT coalesce(json_agg(x ORDER BY x.distance_m), '[]'::json)::text FROM (
  SELECT t.stop_id, t.name, t.kana, t.location_type, t.routes, t.agencies, t.city_code,
         round(ST_Distance(t.geom_m, ST_Transform(p.g, 6670))::numeric, 1) AS distance_m,
         ST_Y(t.geom) AS lat, ST_X(t.geom) AS lon
  FROM (SELECT ST_SetSRID(ST_MakePoint($1::double precision, $2::double precision), 6668) AS g) p,
       LATERAL (SELECT * FROM bus_stops b WHERE b.parent_station IS NULL ORDER BY b.geom <-> p.g LIMIT $3 * 3) t
  ORDER BY distance_m LIMIT $3
) x
"""

# Stations and boarding points without a station, for the geocoder (names, readings, positions).
PLACES_SQL = """
SELECT name, kana, lat, lon, CASE WHEN location_type = 1 THEN 'station' ELSE 'bus_stop' END AS kind, stop_id
FROM transit_stops WHERE city_code IS NOT NULL AND (location_type = 1 OR parent_station IS NULL)
ORDER BY stop_id
"""
