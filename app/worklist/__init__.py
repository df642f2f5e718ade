"""The worklist: the open deadlines of the caller's (or a managed team's) cases, urgent first."""
