"""Helpers of the load suite: synthetic data, access tokens, seeding, the suite's settings and its target."""
