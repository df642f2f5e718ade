"""Practice measures for the scorecard (issue 6, part 5)."""
