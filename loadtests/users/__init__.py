"""Locust User classes of the Platform API suite.

All are ``FastHttpUser``s: on this kind of machine FastHttpUser sustains about 4.6x the requests of ``HttpUser`` per
core (see DESIGN.md), and the load generator, not the API, is what saturates first on 2 cores. The class weights
(generation 6, auth 3, payments 1) give the mixed workload its 60/30/10 split when the classes run together.
"""

from loadtests.users.auth import AuthUser, InvalidTokenUser
from loadtests.users.generation import GenerationUser
from loadtests.users.payments import PaymentUser

__all__ = ["AuthUser", "GenerationUser", "InvalidTokenUser", "PaymentUser"]
