"""The child's chronology: significant events across all their cases, from ``case_event``."""
