"""Settings: one table of every setting, value parsers, precedence layers, profiles and the env file.

Plain Python, no pytest, no Locust: the plugin builds its options from here, scripts may use it too.
"""
