"""Garbage collection: categories, groups (地区), dated collection events with exceptions, notices, items, reminders."""
