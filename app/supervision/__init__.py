"""Supervision sessions and management oversight on case files (issue 6, part 3)."""
