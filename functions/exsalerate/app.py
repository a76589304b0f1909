"""Exsalerate vendor function: wiring only."""

from custsync.runtime import build_handler
from exsalerate.connector import ExsalerateConnector

lambda_handler = build_handler(ExsalerateConnector)
