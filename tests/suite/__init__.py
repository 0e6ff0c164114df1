"""The Platform API load suite shipped in loadtests/."""
