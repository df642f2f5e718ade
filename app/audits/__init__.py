"""Case file audits: tools, programmes, audits, moderation, actions, findings (issue 6)."""
