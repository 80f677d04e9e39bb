"""Use cases: load, check, apply the rules, record, flush. They never commit: views do, once."""
