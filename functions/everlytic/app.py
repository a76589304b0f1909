"""Everlytic vendor function: wiring only."""

from custsync.runtime import build_handler
from everlytic.connector import EverlyticConnector

lambda_handler = build_handler(EverlyticConnector)
