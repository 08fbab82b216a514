"""Enrolments on a standard: their terms, the standard versions they pin, their running totals."""
