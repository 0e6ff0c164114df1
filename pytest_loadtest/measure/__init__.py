"""Plain data and judgement: thresholds and verdicts, results, evidence, saturation, stages and the gates.

No pytest, no Locust: a script judges a LoadResult here exactly as the plugin does.
"""
