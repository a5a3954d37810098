"""騒音規制地域, derived from 用途地域 by the rules in zone_rules."""

from layers.regulation import regulation_layer

LAYER = regulation_layer("noise_zones", "騒音規制地域", "第1種〜第4種", "noise")
