"""Reminders: what is due, overdue or waiting too long, told to whoever must act, once per occasion."""
