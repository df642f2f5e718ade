"""Children in care: periods of care, legal statuses, placements and the SSDA903 episodes."""
