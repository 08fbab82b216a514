"""What every feature shares; it imports no feature."""
