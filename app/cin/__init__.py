"""Child in need plans: start, reviews on a clock (timescales rule 11), end (issue 3, step 7)."""
