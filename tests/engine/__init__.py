"""The engine from plain Python, as a script uses it: real Locust runs, no pytest session."""
