"""振動規制地域, derived from 用途地域 by the rules in zone_rules."""

from layers.regulation import regulation_layer

LAYER = regulation_layer("vibration_zones", "振動規制地域", "第1種・第2種", "vibration")
