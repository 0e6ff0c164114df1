"""Report writers without pytest sessions."""
