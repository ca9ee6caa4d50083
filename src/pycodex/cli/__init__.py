"""Command-line entry points (click). Keep imports lazy: see main.py."""
