"""What the platform holds about a person, for that person (PDPA)."""
