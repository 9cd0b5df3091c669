"""The HTTP protocol of ``kg serve --workers N``, by import path.

uvicorn starts the processes of a multi-process server by spawning them, and each imports the
protocol class it is told by name; this module makes that class: uvicorn's HTTP protocol with the
server's connection guards (:class:`kg.server.serve.GuardedProtocol`: header timeout, head size,
connection cap), with the settings ``kg serve`` put in the environment. It imports uvicorn, so it
is imported only by uvicorn itself.
"""
from __future__ import annotations

import os

from kg.server.serve import CONFIG_ENV, GuardedProtocol, Settings, config_from_env

Guarded = GuardedProtocol.make(config_from_env()[1] if CONFIG_ENV in os.environ else Settings())
