"""Staff editing: revisions of each layer, row history captured by triggers, the audit, history and rollback."""
