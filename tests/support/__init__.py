"""What the tests share: the journey driver, fake external services and real local servers."""
