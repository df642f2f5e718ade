"""Migration imports: a council's historical returns loaded as Casework records, all or nothing."""
