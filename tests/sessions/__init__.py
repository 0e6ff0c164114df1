"""The plugin through real pytest sessions (pytester) against a real HTTP server on 127.0.0.1."""
