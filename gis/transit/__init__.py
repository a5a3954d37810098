"""Buses: the GTFS(-JP) feed cut to 伊万里市 and 武雄市, timetables with next departures in JST."""
