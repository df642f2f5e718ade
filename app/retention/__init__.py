"""Retention (issue 8 part 3): each child's disposal date, legal holds, and the disposal job."""
