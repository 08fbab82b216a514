"""Evidence review: the review queue, criterion judgements and witness testimony.

The decision and comment forms sit on the evidence item's page, so `evidence/` serves them;
the rules they run are in `review.domain`.
"""
