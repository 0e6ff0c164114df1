"""Judgement without pytest sessions or Locust runs: thresholds, evidence, saturation, gates."""
