"""Child and family assessments: the draft, the dates the child was seen, the factors, and the
manager's authorisation with its outcome (issue 3, step 3)."""
