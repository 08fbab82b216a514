"""User accounts: creating, inviting, passwords, deactivating."""
