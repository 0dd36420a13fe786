"""Adapters to other tools: the EMA Workbench and Mesa's batch runner."""
