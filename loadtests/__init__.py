"""The Platform API load suite and the reference Platform API it targets (``loadtests.platform_api``)."""
