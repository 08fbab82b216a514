"""The gateway pages: readiness, declarations, submission to the EPAO and the assessor's decision."""
