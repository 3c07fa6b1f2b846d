"""Documents applicants upload: the use cases, the checks of their content, and the scanner call."""
