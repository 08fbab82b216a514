"""The agreements made at the start of an apprenticeship: the skills scan and the training plan."""
