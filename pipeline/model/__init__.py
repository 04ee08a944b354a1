"""Parsed rows to the warehouse's model: Swedish numbers and units, the indicator catalog, periods."""
