"""Early help: step-down, the team around the family, and step-up back (issue 6)."""
