"""The demo world: fictional providers, employers, apprentices and their evidence."""
