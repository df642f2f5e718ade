"""Case notes: typed notes on a case, drafted as the author types, immutable once finished."""
