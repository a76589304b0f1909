"""Exigo vendor function: wiring only."""

from custsync.runtime import build_handler
from exigo.connector import ExigoConnector

lambda_handler = build_handler(ExigoConnector)
