"""Map pages built with folium: layers from our own GeoJSON/MVT endpoints, assets served by this service."""

from gis.maps.builder import PageLayer, build_map_html

__all__ = ["PageLayer", "build_map_html"]
