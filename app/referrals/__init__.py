"""Referrals to children's social care: the start of a CIN episode and the decision on the type
of response (timescales rule 2)."""
