"""Settings without pytest sessions: resolution, precedence, parsers and hostile values."""
