"""The calendar feed: a secret, revocable link to an ICS feed of progress reviews and deadlines."""
