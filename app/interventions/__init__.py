"""Services and interventions for a child and family, and the edge-of-care outcome (issue 6)."""
