"""The front door (MASH): contacts about children, agency checks, and the decision per child."""
