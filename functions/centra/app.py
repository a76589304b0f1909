"""Centra vendor function: wiring only."""

from centra.connector import CentraConnector
from custsync.runtime import build_handler

lambda_handler = build_handler(CentraConnector)
