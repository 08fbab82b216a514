"""Evidence review, comments, criterion judgements and witness testimony: the pages.

The domain functions live in `portfolio.reviewing`; the to-do counts other pages show are
importable from here too.
"""

from ..reviewing import awaiting_review_count, referred_count

__all__ = ["awaiting_review_count", "referred_count"]
