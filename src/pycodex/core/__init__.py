"""The engine: a queue pair (submit `Op`s, read `Event`s) per thread. Knows no front end."""
