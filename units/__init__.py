"""Administrative units of both eras, the committees directly under a province, and who is expected to report."""
