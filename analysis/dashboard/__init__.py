"""The browser dashboard: two platforms side by side on one market."""
