"""Signing requests: people without an account sign witness testimonies and progress reviews by email."""
