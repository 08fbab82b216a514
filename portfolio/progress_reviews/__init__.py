"""Three-way progress reviews: recording, signing, when the next is due."""
