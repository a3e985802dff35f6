"""Tagging records and activities: tag definitions, mappings and their events."""
