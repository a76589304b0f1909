"""Expandable vendor function: wiring only."""

from custsync.runtime import build_handler
from expandable.connector import ExpandableConnector

lambda_handler = build_handler(ExpandableConnector)
